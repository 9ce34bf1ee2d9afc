import {Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {TransientError} from '../../core/errors.js'
import {HashingStream} from '../../integrity/hash.js'
import {classifyNetworkError} from '../../net/http-client.js'
import {type RetryOptions, withRetry} from '../../net/retry.js'
import {guardSpeed} from '../../net/speed-guard.js'
import type {Store} from '../store.js'

export interface HashedObject {
  readonly sha256: string
  readonly size: number
  /** The first 64 bytes, for an ELF check. */
  readonly head: Buffer
  /** Base64 MD5 of the content, when asked for (to record next to the sha256). */
  readonly md5?: string
}

export interface HashObjectOptions extends RetryOptions {
  readonly md5?: boolean
}

/** One attempt at streaming an object through sha256 in memory: nothing touches the disk. */
async function hashOnce(store: Store, key: string, md5: boolean): Promise<HashedObject> {
  const where = `${store.display}/${key}`
  const {body, size} = await store.read(key)
  const hashing = new HashingStream({headBytes: 64, md5})
  try {
    await pipeline(guardSpeed(body, (error) => classifyNetworkError(error, `reading ${where}`)), hashing, new Writable({highWaterMark: 1 << 20, write: (_chunk, _encoding, done) => done()}))
  } catch (error) {
    throw classifyNetworkError(error, `reading ${where}`)
  }
  if (size !== undefined && hashing.bytes !== size) throw new TransientError(`${where}: body ended after ${hashing.bytes} of ${size} bytes`)
  const md5Value = hashing.md5Base64()
  return {head: hashing.head(), sha256: hashing.digest(), size: hashing.bytes, ...(md5Value ? {md5: md5Value} : {})}
}

/** An object's sha256, from its content, retried as a whole on transient failures. */
export function hashObject(store: Store, key: string, options: HashObjectOptions = {}): Promise<HashedObject> {
  return withRetry('hashing', () => hashOnce(store, key, options.md5 ?? false), options)
}
