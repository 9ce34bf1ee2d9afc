import {IntegrityError, TransientError} from '../../core/errors.js'
import {classifyNetworkError} from '../../net/http-client.js'
import {discardBody, readBounded} from '../../net/read-bounded.js'
import type {ReadOptions, Store} from '../store.js'

/** Reads a small object (a sidecar, SHA256SUMS), refusing more than `maxBytes`. One attempt: callers retry. */
export async function readSmall(store: Store, key: string, maxBytes: number, options: ReadOptions = {}): Promise<Buffer> {
  const {body, size} = await store.read(key, {...options, maxBytes})
  const where = `${store.display}/${key}`
  const tooLarge = (): IntegrityError => new IntegrityError(`${where} is larger than the ${maxBytes}-byte limit for this file`)
  if (size !== undefined && size > maxBytes) {
    discardBody(body)
    throw new IntegrityError(`${where} is ${size} bytes, larger than the ${maxBytes}-byte limit for this file`)
  }
  const content = await readBounded(body, maxBytes, where, tooLarge)
  if (size !== undefined && content.length !== size) {
    throw new TransientError(`${where}: body ended after ${content.length} of ${size} bytes`)
  }
  return content
}

/** The first `bytes` bytes of an object (an ELF header), without downloading the rest. */
export async function readHead(store: Store, key: string, bytes: number, options: ReadOptions = {}): Promise<Buffer> {
  const {body} = await store.read(key, {...options, firstBytes: bytes})
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk)
      total += chunk.length
      if (total >= bytes) break
    }
  } catch (error) {
    throw classifyNetworkError(error, `reading ${store.display}/${key}`)
  } finally {
    discardBody(body)
  }
  return Buffer.concat(chunks).subarray(0, bytes)
}
