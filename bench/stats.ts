/** Helpers shared by the benchmark summaries (bench/summarize.ts, bench/copy-summarize.ts). */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** GNU time's %M (KiB) in decimal megabytes, the stricter reading of an "N MB" target. */
export function megabytes(kib: number): number {
  return (kib * 1024) / 1e6
}
