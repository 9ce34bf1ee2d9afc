import type {Writable} from 'node:stream'

import {fileSystemError} from '../../core/errors.js'
import {FileSink} from '../../core/file-sink.js'
import {discard, tempPathFor} from '../../core/temp-files.js'
import {classifyNetworkError} from '../../net/http-client.js'
import {withRetry} from '../../net/retry.js'
import type {Store} from '../store.js'
import {type HashedContent, type ReadHashedOptions, readHashed} from './read-hashed.js'

export interface StagedFile extends HashedContent {
  /** The temp file holding the content; the caller renames or discards it. */
  readonly path: string
}

export interface StageOptions extends ReadHashedOptions {
  readonly onRetry?: (message: string) => void
}

/** One download attempt into a fresh temp file, hashed on the way. */
async function stageOnce(store: Store, key: string, finalPath: string, options: StageOptions): Promise<StagedFile> {
  const temp = tempPathFor(finalPath)
  try {
    // Synced before the stream finishes, so a renamed file is durable, not just named.
    const openTemp = (): Writable => new FileSink(temp, 0o600)
    return {...(await readHashed(store, key, openTemp, 'downloading', options)), path: temp}
  } catch (error) {
    await discard(temp)
    // A failure of the temp file is named by the path it stands in for.
    const failedPath = (error as NodeJS.ErrnoException).path
    throw fileSystemError(error, failedPath === undefined || failedPath === temp ? finalPath : failedPath) ?? classifyNetworkError(error, `downloading ${store.display}/${key}`)
  }
}

/**
 * Downloads an object into a temp file next to `finalPath`, retrying transient
 * failures (each retry starts a new file, so a truncated body never survives).
 */
export async function stageObject(
  store: Store,
  key: string,
  finalPath: string,
  options: StageOptions = {},
): Promise<StagedFile> {
  return withRetry('download', () => stageOnce(store, key, finalPath, options), {onRetry: options.onRetry})
}
