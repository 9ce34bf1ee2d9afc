import {runService} from '../runner.js'
import {lockPinFor} from './lock-pin.js'
import type {FetchRequest} from './request.js'
import type {FetchEvents, FetchResult} from './result.js'
import {checkUpToDate} from './up-to-date.js'

/**
 * `fetch`: up to date (local disk only, nothing else loaded: it runs on every
 * `make`), or else downloaded, verified and installed. The lock file's entry,
 * when there is one, pins the digest for both. The download machinery is
 * imported only when it is needed.
 */
export function fetchArtifact(unpinned: FetchRequest, events: FetchEvents = {}): Promise<FetchResult> {
  return runService(async () => {
    const request: FetchRequest = {...unpinned, lockPin: lockPinFor(unpinned, (message) => events.onWarning?.(message))}
    const upToDate = checkUpToDate(request)
    if (upToDate) return upToDate
    const {download} = await import('./download.js')
    const work = (): Promise<FetchResult> => download(request, events)
    return events.whileDownloading ? events.whileDownloading(work) : work()
  })
}
