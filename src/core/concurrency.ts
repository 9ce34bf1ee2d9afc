/**
 * At most `limit` tasks at once; the rest wait their turn in order. Copies
 * use one to bound the streams that cost this host memory and CPU,
 * independently of how many objects are in flight overall.
 */
export class Limiter {
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve)
      })
    } else {
      this.active++
    }
    try {
      return await task()
    } finally {
      // Hand the slot straight to the next waiter, or free it.
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
    }
  }
}

/**
 * Maps `items` through `worker` with at most `limit` in flight, keeping order.
 * Every item is attempted; the first failure is rethrown after all settle, so
 * no work is left running behind the caller's back.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, worker: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const limiter = new Limiter(Math.max(1, limit))
  const settled = await Promise.allSettled(items.map((item, index) => limiter.run(() => worker(item, index))))
  const failure = settled.find((outcome) => outcome.status === 'rejected')
  if (failure) throw failure.reason
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<R>).value)
}
