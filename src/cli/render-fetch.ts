import type {FetchResult} from '../services/fetch/result.js'
import {formatBytes} from './reporter.js'

/** The one line a fetch prints to stderr. */
export function describeFetch(result: FetchResult): string {
  const what = `${result.artifact} ${result.version}/${result.arch}`
  const digest = `sha256 ${result.sha256.slice(0, 12)}…`
  if (result.status === 'up-to-date') return `${what} is up to date at ${result.path} (${digest})`
  return `fetched ${what} to ${result.path} (${formatBytes(result.size)}, ${digest}, verified by ${result.verifiedBy.join(' and ') || 'size only'}) from ${result.source}`
}
