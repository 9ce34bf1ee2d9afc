import {type Readable, addAbortSignal} from 'node:stream'

import {IntegrityError} from '../core/errors.js'
import {readBounded} from '../net/read-bounded.js'
import {SpeedGuard} from '../net/speed-guard.js'

/**
 * Hands out an SDK's download stream with its errors translated into the
 * tool's typed errors, so that callers never see an SDK error class. Ending
 * the returned stream early also tears down the SDK's request. The minimum
 * transfer speed applies to it (net/speed-guard), mapped through `mapError`.
 */
export function relayErrors(source: Readable, mapError: (error: unknown) => Error, signal?: AbortSignal): Readable {
  const out = new SpeedGuard(mapError, undefined, {highWaterMark: 1 << 20})
  source.on('error', (error) => out.destroy(mapError(error)))
  out.on('close', () => {
    if (!source.destroyed) source.destroy()
  })
  source.pipe(out)
  return signal ? addAbortSignal(signal, out) : out
}

/**
 * Reads a body that is about to be uploaded into memory, refusing more than
 * the declared size, so that it can be checked before anything is sent.
 */
export function collectBody(body: Readable, expectedSize: number, where: string): Promise<Buffer> {
  return readBounded(body, expectedSize, `the content for ${where}`, () => new IntegrityError(`content for ${where} is longer than the declared ${expectedSize} bytes: not written`))
}
