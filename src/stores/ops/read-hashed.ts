import type {Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {TransientError} from '../../core/errors.js'
import {BinaryScanner} from '../../integrity/binary-scanner.js'
import {HashingStream} from '../../integrity/hash.js'
import {classifyNetworkError} from '../../net/http-client.js'
import {guardSpeed} from '../../net/speed-guard.js'
import type {ReadOptions, Store} from '../store.js'
import {checkServiceDigest, chooseServiceDigest, hashingFor} from './service-check.js'

export interface ReadHashedOptions extends ReadOptions {
  /**
   * Verify the bytes against the service's own checksum of the object, when
   * it reports one. Asked while the bytes flow, so that the check stops
   * costing anything once the caller learns it has a sidecar after all. A
   * mismatch is an IntegrityError.
   */
  readonly checkService?: () => boolean
  /** Also compute the MD5 of the content. */
  readonly md5?: boolean
  /** A marker to look for in the bytes as they pass (a version banner), reported as `hasMarker`. */
  readonly scanFor?: string
}

export interface HashedContent {
  readonly sha256: string
  readonly size: number
  /** The first 64 bytes, for an ELF check. */
  readonly head: Buffer
  /** With `md5`: the base64 MD5 of the content. */
  readonly md5?: string
  /**
   * With `checkService`: what vouched for the bytes ("crc32c from
   * x-goog-hash", or the store's own check of what it decoded); undefined
   * when the service reported nothing.
   */
  readonly serviceVerified?: string
  /** With `scanFor`: whether that marker occurs in the content. */
  readonly hasMarker?: boolean
}

/**
 * Reads one object into the sink `openSink` opens, hashing every byte on the way (sha256, and
 * what the service's checksum or the caller needs besides), under the
 * minimum-speed guard; checks the length the store announced and the
 * service's checksum. The one read-and-verify pass behind staging a download
 * and hashing an object in memory, so that both trust the same evidence.
 */
export async function readHashed(store: Store, key: string, openSink: () => Writable, verb: string, options: ReadHashedOptions = {}): Promise<HashedContent> {
  const where = `${store.display}/${key}`
  const {body, checksums, size: announced, verifiedInTransit} = await store.read(key, options)
  const digest = options.checkService?.() ? chooseServiceDigest(checksums) : undefined
  const extras = hashingFor(digest)
  const scanner = options.scanFor === undefined ? undefined : new BinaryScanner(options.scanFor)
  const hashing = new HashingStream({
    // An MD5 the caller asked for must survive the service check being dropped.
    extrasWanted: options.md5 ? undefined : options.checkService,
    headBytes: 64,
    onChunk: scanner && ((chunk) => scanner.update(chunk)),
    ...extras,
    md5: Boolean(extras.md5 || options.md5),
  })
  // The sink is opened only once the read has started: a temp file is never created for an object that is not there.
  await pipeline(guardSpeed(body, (error) => classifyNetworkError(error, `${verb} ${where}`)), hashing, openSink())
  if (announced !== undefined && hashing.bytes !== announced) {
    throw new TransientError(`${where}: body ended after ${hashing.bytes} of ${announced} bytes (truncated)`)
  }
  // The store's own check (the md5 of gzip bytes before decoding) stands in where no checksum describes what arrived.
  const serviceVerified = digest && checksums ? checkServiceDigest(hashing, checksums, digest, where) : options.checkService?.() ? verifiedInTransit : undefined
  const md5 = options.md5 ? hashing.md5Base64() : undefined
  return {
    head: hashing.head(),
    sha256: hashing.digest(),
    size: hashing.bytes,
    ...(md5 ? {md5} : {}),
    ...(serviceVerified ? {serviceVerified} : {}),
    ...(scanner ? {hasMarker: scanner.result().hasMarker} : {}),
  }
}
