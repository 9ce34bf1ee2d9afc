import assert from 'node:assert/strict'
import {PassThrough, Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {TransientError} from '../../src/core/errors.js'
import {classifyNetworkError} from '../../src/net/http-client.js'
import {SlowTransferError, guardSpeed} from '../../src/net/speed-guard.js'
import {relayErrors} from '../../src/stores/sdk-stream.js'

const limit = {bytesPerSecond: 1000, seconds: 2}

/** A body that sends `bytesPerTick` every 100 ms, for `ticks` ticks. */
function paced(bytesPerTick: number, ticks: number): Readable {
  return Readable.from(
    (async function* () {
      for (let tick = 0; tick < ticks; tick++) {
        await sleep(100)
        yield Buffer.alloc(bytesPerTick, 0x61)
      }
    })(),
  )
}

const drain = (body: Readable): Promise<void> => pipeline(body, new PassThrough().resume())

describe('the minimum transfer speed', () => {
  it('aborts a body slower than the limit over the window, with the mapped error', async () => {
    const body = paced(10, 100)
    const guarded = guardSpeed(body, (error) => classifyNetworkError(error, 'GET https://example.com/x'), limit)
    const started = Date.now()
    await assert.rejects(drain(guarded), (error: unknown) => {
      assert.ok(error instanceof TransientError)
      assert.match(error.message, /^GET https:\/\/example\.com\/x: transfer slower than 1000 B\/s for 2 s \(\d+ bytes in the last 2 s\)/)
      assert.ok(error.cause instanceof SlowTransferError)
      return true
    })
    assert.ok(Date.now() - started < 4000)
    assert.equal(body.destroyed, true, 'the source is torn down too')
  })

  it('lets a body at or above the limit through, and a short one that ends before the window', async () => {
    await drain(guardSpeed(paced(150, 30), (error) => error, limit))
    await drain(guardSpeed(paced(1, 3), (error) => error, limit))
  })

  it('counts a consumer that stops reading as slow', async () => {
    const guarded = guardSpeed(Readable.from([Buffer.alloc(1 << 20)]), (error) => error, limit)
    guarded.pause()
    const failed = new Promise((resolve) => guarded.on('error', resolve))
    assert.ok((await failed) instanceof SlowTransferError)
  })

  it('guards SDK download streams, with the store\'s own error mapping', async () => {
    process.env.E2B_ARTIFACTS_SPEED_LIMIT = '1000'
    process.env.E2B_ARTIFACTS_SPEED_TIME = '2'
    try {
      const relayed = relayErrors(paced(10, 100), (error) => classifyNetworkError(error, 'downloading gs://bucket/key'))
      await assert.rejects(drain(relayed), /^TransientError: downloading gs:\/\/bucket\/key: transfer slower than 1000 B\/s for 2 s/)
    } finally {
      delete process.env.E2B_ARTIFACTS_SPEED_LIMIT
      delete process.env.E2B_ARTIFACTS_SPEED_TIME
    }
  })

  it('is off with a limit of 0', () => {
    const body = paced(1, 1)
    assert.equal(guardSpeed(body, (error) => error, {bytesPerSecond: 0, seconds: 30}), body)
    body.destroy()
  })
})
