import {IntegrityError, TransientError} from '../core/errors.js'
import {classifyNetworkError} from '../net/http-client.js'
import type {Readable} from 'node:stream'

import type {ReadOptions, Store} from './store.js'

/** Reads a small object (a sidecar, SHA256SUMS), refusing more than `maxBytes`. */
export async function readSmall(store: Store, key: string, maxBytes: number, options: ReadOptions = {}): Promise<Buffer> {
  const {body, size} = await store.read(key, {...options, maxBytes})
  const where = `${store.display}/${key}`
  if (size !== undefined && size > maxBytes) {
    discardBody(body)
    throw new IntegrityError(`${where} is ${size} bytes, larger than the ${maxBytes}-byte limit for this file`)
  }
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length
      if (total > maxBytes) throw new IntegrityError(`${where} is larger than the ${maxBytes}-byte limit for this file`)
      chunks.push(chunk)
    }
  } catch (error) {
    discardBody(body)
    throw classifyNetworkError(error, `reading ${where}`)
  }
  const content = Buffer.concat(chunks)
  if (size !== undefined && content.length !== size) {
    throw new TransientError(`${where}: body ended after ${content.length} of ${size} bytes`)
  }
  return content
}

/** Stops a body we no longer want; the abort it causes is expected, not an error. */
function discardBody(body: Readable): void {
  body.on('error', () => {})
  body.destroy()
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
