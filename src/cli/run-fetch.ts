import type {CheckedFetch} from '../services/fetch/check.js'
import {type FetchInput, resolveFetchRequest} from '../services/fetch/request.js'
import {fetchArtifact, fetchChecked} from '../services/fetch/fetch.js'
import type {FetchEvents, FetchResult} from '../services/fetch/result.js'
import {describeFetch} from './render-fetch.js'
import type {Reporter} from './reporter.js'

/**
 * What cli/up-to-date-path.ts learnt before it handed a fetch on: the request,
 * resolved and checked, and the warnings it held back (the lock's) until it
 * knew who would report them.
 */
export interface FetchHandoff {
  readonly checked: CheckedFetch
  readonly warnings: readonly string[]
}

/** The whole `fetch` as a user sees it, shared by the oclif command and the fast path. */
export async function runFetch(input: FetchInput, reporter: Reporter, handoff?: FetchHandoff): Promise<FetchResult> {
  const request = handoff?.checked.request ?? resolveFetchRequest(input)
  const what = `${request.artifact.name} ${request.version}/${request.arch}`
  const events: FetchEvents = {
    onRetry: (message) => reporter.warn(message),
    onWarning: (message) => reporter.warn(message),
    whileDownloading: (work) => reporter.withProgress(`fetching ${what} from ${request.from.display}`, work),
  }
  for (const warning of handoff?.warnings ?? []) reporter.warn(warning)
  const result = await (handoff ? fetchChecked(handoff.checked, events) : fetchArtifact(request, events))
  reporter.action(describeFetch(result))
  return result
}
