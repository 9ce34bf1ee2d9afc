import {type FetchInput, resolveFetchRequest} from './core/fetch-request.js'
import type {FetchResult} from './transfer/fetch-artifact.js'
import {checkUpToDate} from './transfer/up-to-date.js'
import {describeFetch} from './ui/render-fetch.js'
import type {Reporter} from './ui/reporter.js'

/**
 * The whole `fetch`, shared by the oclif command and the fast path. The
 * download machinery is imported only when the local copy is not up to date.
 */
export async function runFetch(input: FetchInput, reporter: Reporter): Promise<FetchResult> {
  const request = resolveFetchRequest(input)
  let result = await checkUpToDate(request)
  if (!result) {
    const [{fetchArtifact}, {closeHttp}] = await Promise.all([import('./transfer/fetch-artifact.js'), import('./net/http-client.js')])
    try {
      const events = {onRetry: (message: string) => reporter.warn(message), onWarning: (message: string) => reporter.warn(message)}
      const what = `${request.artifact.name} ${request.version}/${request.arch}`
      result = await reporter.withProgress(`fetching ${what} from ${request.from.display}`, () => fetchArtifact(request, events))
    } finally {
      await closeHttp()
    }
  }
  reporter.action(describeFetch(result))
  return result
}
