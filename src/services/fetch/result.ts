export interface FetchResult {
  readonly status: 'fetched' | 'up-to-date'
  readonly artifact: string
  readonly version: string
  readonly arch: string
  readonly path: string
  readonly sha256: string
  readonly size: number
  /**
   * What the digest was checked against: `pin` is --sha256, `lock` the lock
   * file's entry, `service-checksum` the store's own checksum of the object
   * (for an artifact without a sidecar).
   */
  readonly verifiedBy: Array<'lock' | 'pin' | 'service-checksum' | 'sidecar'>
  readonly source?: string
}

export interface FetchEvents {
  onRetry?(message: string): void
  onWarning?(message: string): void
  /** Wraps the download, when there is one (a spinner shows it); an up-to-date fetch never calls it. */
  whileDownloading?<T>(work: () => Promise<T>): Promise<T>
}
