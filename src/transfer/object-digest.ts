import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {TransientError} from '../core/errors.js'
import {HashingStream} from '../integrity/hash.js'
import {classifyNetworkError} from '../net/http-client.js'
import type {ObjectInfo, Store} from '../stores/store.js'
import {withRetry} from './retry.js'

/**
 * Streams an object through sha256 in memory (nothing touches the disk), keeping
 * its first bytes for an ELF check. One attempt: callers retry it, as a whole.
 */
export async function hashObject(store: Store, key: string): Promise<{sha256: string; size: number; head: Buffer}> {
  const where = `${store.display}/${key}`
  const {body, size} = await store.read(key)
  const hashing = new HashingStream(64)
  try {
    await pipeline(body, hashing, new Writable({highWaterMark: 1 << 20, write: (_chunk, _encoding, done) => done()}))
  } catch (error) {
    throw classifyNetworkError(error, `reading ${where}`)
  }
  if (size !== undefined && hashing.bytes !== size) throw new TransientError(`${where}: body ended after ${hashing.bytes} of ${size} bytes`)
  return {head: hashing.head(), sha256: hashing.digest(), size: hashing.bytes}
}

/** Base64 MD5 of a local file, in the form GCS reports it, to check the service's own checksum on read-back. */
export async function md5File(filePath: string): Promise<string> {
  const hash = createHash('md5')
  for await (const chunk of createReadStream(filePath, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) hash.update(chunk)
  return hash.digest('base64')
}

export interface ExpectedContent {
  readonly sha256: string
  readonly size: number
  /** Base64 MD5, when known: checked against a service-computed md5. */
  readonly md5?: string
}

export interface Comparison {
  readonly same: boolean
  /** The existing object's sha256, when known (for messages). */
  readonly sha256?: string
}

/**
 * Whether an existing object holds exactly `expected`. A different size or a
 * service-computed md5 that disagrees settles it (sha256 metadata is written
 * by a client, md5 by the service); otherwise the store's sha256 metadata
 * decides, or else the content, rehashed. Never decided on size alone.
 */
export async function compareObject(store: Store, info: ObjectInfo, expected: ExpectedContent): Promise<Comparison> {
  const known = info.sha256 ? {sha256: info.sha256} : {}
  if (info.size !== expected.size) return {same: false, ...known}
  if (info.md5 && expected.md5 && info.md5 !== expected.md5) return {same: false, ...known}
  const sha256 = info.sha256 ?? (await withRetry('read-back', () => hashObject(store, info.key))).sha256
  return {same: sha256 === expected.sha256, sha256}
}
