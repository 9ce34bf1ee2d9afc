import {lockPinFor} from './lock-pin.js'
import type {FetchRequest} from './request.js'
import type {FetchResult} from './result.js'
import {checkUpToDate} from './up-to-date.js'

/** A fetch request pinned by its lock entry, and its up-to-date result when the local file is up to date. */
export interface CheckedFetch {
  readonly request: FetchRequest
  readonly upToDate?: FetchResult
}

/**
 * The part of a fetch that reads only the local disk: the lock file's pin,
 * then the up-to-date check. Synchronous, and apart from the download
 * machinery (which only fetch.ts imports): the no-op fetch on every `make`
 * runs this and nothing more (cli/up-to-date-path.ts).
 */
export function checkFetch(unpinned: FetchRequest, warn: (message: string) => void): CheckedFetch {
  const request: FetchRequest = {...unpinned, lockPin: lockPinFor(unpinned, warn)}
  return {request, upToDate: checkUpToDate(request)}
}
