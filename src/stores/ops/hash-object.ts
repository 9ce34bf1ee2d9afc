import {Writable} from 'node:stream'

import {classifyNetworkError} from '../../net/http-client.js'
import {type RetryOptions, withRetry} from '../../net/retry.js'
import type {Store} from '../store.js'
import {type HashedContent, readHashed} from './read-hashed.js'

export type HashedObject = HashedContent

export interface HashOptions extends RetryOptions {
  /** Also compute the MD5 of the content. */
  readonly md5?: boolean
  /** Also check the content against the service's own checksum, when the read reports one (an IntegrityError when it differs). */
  readonly checkService?: boolean
}

/** One attempt at streaming an object through sha256 in memory: nothing touches the disk. */
async function hashOnce(store: Store, key: string, options: HashOptions): Promise<HashedObject> {
  const discardAll = (): Writable => new Writable({highWaterMark: 1 << 20, write: (_chunk, _encoding, done) => done()})
  try {
    return await readHashed(store, key, discardAll, 'reading', {md5: options.md5, ...(options.checkService ? {checkService: () => true} : {})})
  } catch (error) {
    throw classifyNetworkError(error, `reading ${store.display}/${key}`)
  }
}

/** An object's sha256, from its content, retried as a whole on transient failures. */
export function hashObject(store: Store, key: string, options: HashOptions = {}): Promise<HashedObject> {
  return withRetry('hashing', () => hashOnce(store, key, options), options)
}
