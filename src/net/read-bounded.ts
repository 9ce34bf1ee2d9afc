import type {Readable} from 'node:stream'

import {classifyNetworkError} from './http-client.js'

/**
 * Reads a whole body into memory, refusing more than `maxBytes`: the one guard
 * for everything small a server sends (sidecars, SHA256SUMS, API documents,
 * uploads checked before they are sent), so an endless or oversized body can
 * never fill memory. `tooLarge` says what an oversized body means there.
 */
export async function readBounded(body: Readable, maxBytes: number, what: string, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length
      if (total > maxBytes) throw tooLarge()
      chunks.push(chunk)
    }
  } catch (error) {
    discardBody(body)
    throw classifyNetworkError(error, `reading ${what}`)
  }
  return Buffer.concat(chunks, total)
}

/** Stops a body we no longer want; the abort it causes is expected, not an error. */
export function discardBody(body: Readable): void {
  body.on('error', () => {})
  body.destroy()
}
