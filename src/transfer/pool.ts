/**
 * At most `limit` tasks at once; the rest wait their turn in order. Used to
 * bound work that costs this host memory and CPU (streams), independently of
 * how many objects are in flight overall.
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
