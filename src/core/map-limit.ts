/**
 * Maps `items` through `worker` with at most `limit` in flight, keeping order.
 * Every item is attempted; the first failure is rethrown after all settle, so
 * no work is left running behind the caller's back.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, worker: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  const failures: unknown[] = []
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      try {
        results[index] = await worker(items[index]!, index)
      } catch (error) {
        failures.push(error)
      }
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, lane))
  if (failures.length > 0) throw failures[0]
  return results
}
