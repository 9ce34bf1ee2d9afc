import {runService} from '../runner.js'
import {type CheckedFetch, checkFetch} from './check.js'
import type {FetchRequest} from './request.js'
import type {FetchEvents, FetchResult} from './result.js'

/**
 * `fetch`: up to date (local disk only, nothing else loaded: it runs on every
 * `make`), or else downloaded, verified and installed. The lock file's entry,
 * when there is one, pins the digest for both. The download machinery is
 * imported only when it is needed.
 */
export function fetchArtifact(unpinned: FetchRequest, events: FetchEvents = {}): Promise<FetchResult> {
  return runService(async () => finishFetch(checkFetch(unpinned, (message) => events.onWarning?.(message)), events))
}

/** The rest of a fetch that checkFetch has checked already (see cli/up-to-date-path.ts). */
export function fetchChecked(checked: CheckedFetch, events: FetchEvents = {}): Promise<FetchResult> {
  return runService(async () => finishFetch(checked, events))
}

async function finishFetch(checked: CheckedFetch, events: FetchEvents): Promise<FetchResult> {
  if (checked.upToDate) return checked.upToDate
  const {download} = await import('./download.js')
  const work = (): Promise<FetchResult> => download(checked.request, events)
  return events.whileDownloading ? events.whileDownloading(work) : work()
}
