import {type FetchInput, resolveFetchRequest} from '../services/fetch/request.js'
import {fetchArtifact} from '../services/fetch/fetch.js'
import type {FetchResult} from '../services/fetch/result.js'
import {describeFetch} from './render-fetch.js'
import type {Reporter} from './reporter.js'

/** The whole `fetch` as a user sees it, shared by the oclif command and the fast path. */
export async function runFetch(input: FetchInput, reporter: Reporter): Promise<FetchResult> {
  const request = resolveFetchRequest(input)
  const what = `${request.artifact.name} ${request.version}/${request.arch}`
  const result = await fetchArtifact(request, {
    onRetry: (message) => reporter.warn(message),
    onWarning: (message) => reporter.warn(message),
    whileDownloading: (work) => reporter.withProgress(`fetching ${what} from ${request.from.display}`, work),
  })
  reporter.action(describeFetch(result))
  return result
}
