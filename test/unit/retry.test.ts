import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {NotFoundError, TransientError} from '../../src/core/errors.js'
import {backoffMs, withRetry} from '../../src/net/retry.js'

const policy = {baseDelayMs: 1, maxDelayMs: 4, tries: 4}

describe('withRetry', () => {
  it('retries transient failures up to the number of tries, then names them', async () => {
    let calls = 0
    await assert.rejects(
      withRetry('download', async () => {
        calls++
        throw new TransientError('HTTP 503')
      }, {policy}),
      (error: unknown) => error instanceof TransientError && /^download failed after 4 tries: HTTP 503$/.test(error.message),
    )
    assert.equal(calls, 4)
  })

  it('returns as soon as an attempt succeeds', async () => {
    const seen: Array<number | string> = []
    const result = await withRetry('x', async (attempt) => {
      seen.push(attempt)
      if (attempt < 3) throw new TransientError('reset')
      return 'ok'
    }, {onRetry: (message) => seen.push(message.replace(/in \d+ ms$/, 'in N ms')), policy})
    assert.equal(result, 'ok')
    assert.deepEqual(seen, [1, 'reset; retrying (try 2) in N ms', 2, 'reset; retrying (try 3) in N ms', 3])
  })

  it('never retries other errors', async () => {
    let calls = 0
    await assert.rejects(withRetry('x', async () => {
      calls++
      throw new NotFoundError('404')
    }, {policy}), NotFoundError)
    assert.equal(calls, 1)
  })
})

describe('backoffMs', () => {
  it('grows exponentially, stays under the cap, and honours Retry-After', () => {
    const big = {baseDelayMs: 100, maxDelayMs: 1000, tries: 4}
    for (let i = 0; i < 200; i++) {
      assert.ok(backoffMs(big, 1) <= 100)
      assert.ok(backoffMs(big, 3) <= 400)
      assert.ok(backoffMs(big, 10) <= 1000)
      assert.ok(backoffMs(big, 1, 700) >= 700)
    }
    const samples = new Set(Array.from({length: 50}, () => Math.round(backoffMs(big, 4))))
    assert.ok(samples.size > 10, 'delays are jittered')
  })
})
