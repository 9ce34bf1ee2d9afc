import {type Readable, Transform, type TransformCallback, type TransformOptions, pipeline} from 'node:stream'

import {type SpeedLimit, speedLimit} from '../core/config.js'

/**
 * A body moving slower than the minimum transfer speed. Not typed as one of
 * the tool's errors on purpose: whoever knows which transfer it was maps it
 * (net/http-client's classifyNetworkError makes it a retryable TransientError
 * naming the URL).
 */
export class SlowTransferError extends Error {
  readonly code = 'E2B_SLOW_TRANSFER'

  constructor(limit: SpeedLimit, received: number) {
    super(
      `transfer slower than ${limit.bytesPerSecond} B/s for ${limit.seconds} s (${received} bytes in the last ${limit.seconds} s): check the network and the server, or change E2B_ARTIFACTS_SPEED_LIMIT / E2B_ARTIFACTS_SPEED_TIME`,
    )
    this.name = 'SlowTransferError'
  }
}

const TICK_MS = 1000

/**
 * A pass-through that enforces the minimum transfer speed, as curl's
 * --speed-limit/--speed-time: once `seconds` have passed, a window of the last
 * `seconds` that moved fewer than `bytesPerSecond * seconds` bytes destroys
 * the stream with `describe(new SlowTransferError(…))`. It counts what flows
 * through it, so a consumer that stops reading (a stalled disk or upload)
 * counts as slow too: no body, read or written, can hold the tool forever.
 */
export class SpeedGuard extends Transform {
  private readonly window: number[] = []
  private current = 0
  private ticks = 0
  private timer?: NodeJS.Timeout

  constructor(
    private readonly describe: (error: Error) => Error,
    private readonly limit: SpeedLimit = speedLimit(),
    options: TransformOptions = {},
  ) {
    super(options)
    // Not unref'd: a body that nothing else keeps alive (nothing can move it) is failed, not abandoned when the process exits.
    if (limit.bytesPerSecond > 0) this.timer = setInterval(() => this.tick(), TICK_MS)
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.current += chunk.length
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    this.stop()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stop()
    callback(error)
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private tick(): void {
    this.window.push(this.current)
    this.current = 0
    if (this.window.length > this.limit.seconds) this.window.shift()
    this.ticks++
    if (this.ticks < this.limit.seconds) return
    const received = this.window.reduce((sum, bytes) => sum + bytes, 0)
    if (received < this.limit.bytesPerSecond * this.limit.seconds) this.destroy(this.describe(new SlowTransferError(this.limit, received)))
  }
}

/**
 * `body` behind a speed guard (itself when it already is one, or when the
 * limit is off). Destroying the returned stream destroys `body`, and an error
 * of `body` reaches the returned stream unchanged.
 */
export function guardSpeed(body: Readable, describe: (error: Error) => Error, limit: SpeedLimit = speedLimit()): Readable {
  if (body instanceof SpeedGuard || limit.bytesPerSecond === 0) return body
  const guard = new SpeedGuard(describe, limit, {highWaterMark: body.readableHighWaterMark})
  pipeline(body, guard, () => {})
  return guard
}
