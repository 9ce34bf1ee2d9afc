import {Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {TransientError} from '../../core/errors.js'
import {HashingStream} from '../../integrity/hash.js'
import {classifyNetworkError} from '../../net/http-client.js'
import {type RetryOptions, withRetry} from '../../net/retry.js'
import {guardSpeed} from '../../net/speed-guard.js'
import type {Store} from '../store.js'
import {checkServiceDigest, chooseServiceDigest, hashingFor} from './service-check.js'

export interface HashedObject {
  readonly sha256: string
  readonly size: number
  /** The first 64 bytes, for an ELF check. */
  readonly head: Buffer
  /** With `md5`: the base64 MD5 of the content (to record next to the sha256). */
  readonly md5?: string
  /** With `checkService`: the service checksum the content matched ("md5 from the object metadata"), when the service reported one. */
  readonly serviceVerified?: string
}

export interface HashOptions extends RetryOptions {
  /** Also compute the MD5 of the content. */
  readonly md5?: boolean
  /** Also check the content against the service's own checksum, when the read reports one (an IntegrityError when it differs). */
  readonly checkService?: boolean
}

/** One attempt at streaming an object through sha256 in memory: nothing touches the disk. */
async function hashOnce(store: Store, key: string, options: HashOptions): Promise<HashedObject> {
  const where = `${store.display}/${key}`
  const {body, checksums, size} = await store.read(key)
  const digest = options.checkService ? chooseServiceDigest(checksums) : undefined
  const extras = hashingFor(digest)
  const hashing = new HashingStream({headBytes: 64, ...extras, md5: Boolean(extras.md5 || options.md5)})
  try {
    await pipeline(guardSpeed(body, (error) => classifyNetworkError(error, `reading ${where}`)), hashing, new Writable({highWaterMark: 1 << 20, write: (_chunk, _encoding, done) => done()}))
  } catch (error) {
    throw classifyNetworkError(error, `reading ${where}`)
  }
  if (size !== undefined && hashing.bytes !== size) throw new TransientError(`${where}: body ended after ${hashing.bytes} of ${size} bytes`)
  const serviceVerified = digest && checksums ? checkServiceDigest(hashing, checksums, digest, where) : undefined
  const md5 = options.md5 ? hashing.md5Base64() : undefined
  return {head: hashing.head(), sha256: hashing.digest(), size: hashing.bytes, ...(md5 ? {md5} : {}), ...(serviceVerified ? {serviceVerified} : {})}
}

/** An object's sha256, from its content, retried as a whole on transient failures. */
export function hashObject(store: Store, key: string, options: HashOptions = {}): Promise<HashedObject> {
  return withRetry('hashing', () => hashOnce(store, key, options), options)
}
