import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {Limiter, mapLimit} from '../../src/core/concurrency.js'
import {ConflictError, ExitCode, IntegrityError, NotFoundError, OperationalError, UsageError, exitCodeOf} from '../../src/core/errors.js'
import {combineFailures, mostSevere} from '../../src/core/failures.js'

describe('mostSevere', () => {
  it('ranks integrity over conflict over not found over operational over usage', () => {
    assert.equal(mostSevere([]), ExitCode.ok)
    assert.equal(mostSevere([1, 2]), ExitCode.operational)
    assert.equal(mostSevere([2, 4, 1]), ExitCode.notFound)
    assert.equal(mostSevere([4, 5, 1]), ExitCode.conflict)
    assert.equal(mostSevere([5, 3, 4]), ExitCode.integrity)
  })
})

describe('combineFailures', () => {
  it('returns a single failure as it is', () => {
    const only = new NotFoundError('no asset busybox_v1.36.1_arm64')
    assert.equal(combineFailures([only], 'ignored'), only)
  })

  it('says a failure shared by every arch once', () => {
    const combined = combineFailures([new NotFoundError('release tag v9 not found'), new NotFoundError('release tag v9 not found')], '2 of 2 arches failed')
    assert.ok(combined instanceof NotFoundError)
    assert.equal((combined as Error).message, 'release tag v9 not found')
  })

  it('lists distinct failures on one line with the most severe exit code', () => {
    const combined = combineFailures(
      [new OperationalError('amd64: timeout'), new IntegrityError('arm64: wrong ELF machine\nmore detail'), new ConflictError('exists')],
      '3 of 3 failed',
    )
    assert.ok(combined instanceof IntegrityError)
    assert.equal(exitCodeOf(combined), ExitCode.integrity)
    assert.equal((combined as Error).message, '3 of 3 failed: amd64: timeout; arm64: wrong ELF machine; exists')
  })

  it('keeps usage errors as usage errors', () => {
    const combined = combineFailures([new UsageError('a'), new UsageError('b')], 'two')
    assert.equal(exitCodeOf(combined), ExitCode.usage)
  })
})

describe('mapLimit and Limiter', () => {
  it('keeps at most `limit` tasks in flight, keeps order, and attempts every item before rethrowing', async () => {
    let active = 0
    let peak = 0
    const attempted: number[] = []
    const work = mapLimit([5, 1, 4, 2, 3], 2, async (delay, index) => {
      attempted.push(index)
      active++
      peak = Math.max(peak, active)
      await new Promise((resolve) => {
        setTimeout(resolve, delay)
      })
      active--
      if (index === 1) throw new Error('second failed')
      return delay * 10
    })
    await assert.rejects(work, /second failed/)
    assert.equal(peak, 2)
    assert.deepEqual(attempted.sort(), [0, 1, 2, 3, 4])
    assert.deepEqual(await mapLimit([3, 1, 2], 3, async (n) => n * 2), [6, 2, 4])
  })

  it('hands a freed slot to the next waiter in order', async () => {
    const limiter = new Limiter(1)
    const order: string[] = []
    await Promise.all(['a', 'b', 'c'].map((name) => limiter.run(async () => order.push(name))))
    assert.deepEqual(order, ['a', 'b', 'c'])
  })
})
