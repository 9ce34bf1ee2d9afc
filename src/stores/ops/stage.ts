import {createWriteStream} from 'node:fs'
import {pipeline} from 'node:stream/promises'

import {TransientError, fileSystemError} from '../../core/errors.js'
import {discard, tempPathFor} from '../../core/temp-files.js'
import {BinaryScanner} from '../../integrity/binary-scanner.js'
import {HashingStream} from '../../integrity/hash.js'
import {classifyNetworkError} from '../../net/http-client.js'
import {withRetry} from '../../net/retry.js'
import {guardSpeed} from '../../net/speed-guard.js'
import type {ReadOptions, Store} from '../store.js'
import {checkServiceDigest, chooseServiceDigest, hashingFor} from './service-check.js'

export interface StagedFile {
  /** The temp file holding the content; the caller renames or discards it. */
  readonly path: string
  readonly sha256: string
  readonly size: number
  /** The first 64 bytes, for the ELF header check. */
  readonly head: Buffer
  /**
   * With `checkService`: the service checksum the bytes were verified against
   * ("crc32c from x-goog-hash"); undefined when the service reported none.
   */
  readonly serviceVerified?: string
  /** With `scanFor`: whether that marker occurs in the content. */
  readonly hasMarker?: boolean
}

export interface StageOptions extends ReadOptions {
  readonly onRetry?: (message: string) => void
  /**
   * Verify the bytes in transit against the service's own checksum of the
   * object, when it reports one: for artifacts without a sidecar. Asked
   * while the bytes flow, so that the check stops costing anything once the
   * caller learns it has a sidecar after all. A mismatch is an IntegrityError.
   */
  readonly checkService?: () => boolean
  /** A marker to look for in the bytes as they pass (a version banner), reported as `hasMarker`. */
  readonly scanFor?: string
}

/** One download attempt into a fresh temp file, hashed on the way. */
async function stageOnce(store: Store, key: string, finalPath: string, options: StageOptions): Promise<StagedFile> {
  const where = `${store.display}/${key}`
  const temp = tempPathFor(finalPath)
  try {
    const {body, checksums, size: announced, verifiedInTransit} = await store.read(key, options)
    const digest = options.checkService?.() ? chooseServiceDigest(checksums) : undefined
    const scanner = options.scanFor === undefined ? undefined : new BinaryScanner(options.scanFor)
    const hashing = new HashingStream({extrasWanted: options.checkService, headBytes: 64, onChunk: scanner && ((chunk) => scanner.update(chunk)), ...hashingFor(digest)})
    const guarded = guardSpeed(body, (error) => classifyNetworkError(error, `downloading ${where}`))
    // flush: fsync before close, so a renamed file is durable, not just named.
    await pipeline(guarded, hashing, createWriteStream(temp, {flags: 'wx', flush: true, highWaterMark: 1 << 20, mode: 0o600}))
    if (announced !== undefined && hashing.bytes !== announced) {
      throw new TransientError(`${where}: body ended after ${hashing.bytes} of ${announced} bytes (truncated)`)
    }
    // The store's own check (the md5 of gzip bytes before decoding) stands in where no checksum describes what arrived.
    const serviceVerified = digest && checksums ? checkServiceDigest(hashing, checksums, digest, where) : options.checkService?.() ? verifiedInTransit : undefined
    return {
      head: hashing.head(),
      path: temp,
      sha256: hashing.digest(),
      size: hashing.bytes,
      ...(serviceVerified ? {serviceVerified} : {}),
      ...(scanner ? {hasMarker: scanner.result().hasMarker} : {}),
    }
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
  options: StageOptions = {},
): Promise<StagedFile> {
  return withRetry('download', () => stageOnce(store, key, finalPath, options), {onRetry: options.onRetry})
}
