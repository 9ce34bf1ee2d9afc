import {createWriteStream} from 'node:fs'
import {pipeline} from 'node:stream/promises'

import {TransientError, fileSystemError} from '../../core/errors.js'
import {discard, tempPathFor} from '../../core/temp-files.js'
import {HashingStream} from '../../integrity/hash.js'
import {classifyNetworkError} from '../../net/http-client.js'
import {withRetry} from '../../net/retry.js'
import {guardSpeed} from '../../net/speed-guard.js'
import type {ReadOptions, Store} from '../store.js'

export interface StagedFile {
  /** The temp file holding the content; the caller renames or discards it. */
  readonly path: string
  readonly sha256: string
  readonly size: number
  /** The first 64 bytes, for the ELF header check. */
  readonly head: Buffer
}

/** One download attempt into a fresh temp file, hashed on the way. */
async function stageOnce(store: Store, key: string, finalPath: string, options: ReadOptions): Promise<StagedFile> {
  const where = `${store.display}/${key}`
  const temp = tempPathFor(finalPath)
  try {
    const {body, size: announced} = await store.read(key, options)
    const hashing = new HashingStream({headBytes: 64})
    const guarded = guardSpeed(body, (error) => classifyNetworkError(error, `downloading ${where}`))
    // flush: fsync before close, so a renamed file is durable, not just named.
    await pipeline(guarded, hashing, createWriteStream(temp, {flags: 'wx', flush: true, highWaterMark: 1 << 20, mode: 0o600}))
    if (announced !== undefined && hashing.bytes !== announced) {
      throw new TransientError(`${where}: body ended after ${hashing.bytes} of ${announced} bytes (truncated)`)
    }
    return {head: hashing.head(), path: temp, sha256: hashing.digest(), size: hashing.bytes}
  } catch (error) {
    await discard(temp)
    // A failure of the temp file is named by the path it stands in for.
    const failedPath = (error as NodeJS.ErrnoException).path
    throw fileSystemError(error, failedPath === undefined || failedPath === temp ? finalPath : failedPath) ?? classifyNetworkError(error, `downloading ${where}`)
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
  options: ReadOptions & {onRetry?: (message: string) => void} = {},
): Promise<StagedFile> {
  return withRetry('download', () => stageOnce(store, key, finalPath, options), {onRetry: options.onRetry})
}
