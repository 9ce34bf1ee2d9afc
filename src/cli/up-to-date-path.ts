import {fastPathEnabled} from '../core/config.js'
import {withoutUrlCredentials} from '../core/location.js'
import {type CheckedFetch, checkFetch} from '../services/fetch/check.js'
import {resolveFetchRequest} from '../services/fetch/request.js'
import {writeDirect} from './direct-write.js'
import {parseFastFetch} from './fetch-args.js'
import {describeFetch} from './render-fetch.js'
import {Reporter, formatJson} from './reporter.js'
import type {FetchHandoff} from './run-fetch.js'

/**
 * The first code every command runs (bin/run.js), from a bundle of its own
 * (scripts/bundle-fast-path.mjs) that holds only this: a `fetch` whose file is
 * up to date, the one that runs on every `make`, ends here, before the rest
 * of the fast path (cli/fast-path.ts) is even compiled.
 *
 * Returns true when it has reported an up-to-date fetch. Otherwise the fast
 * path runs: with a handoff, so that it does not resolve and check the same
 * fetch again, or with undefined for anything else, which includes every
 * error: the fast path meets the same error, from the same local disk, and
 * reports it as the command's own.
 */
export function tryUpToDate(argv: readonly string[]): FetchHandoff | true | undefined {
  const fetch = fastPathEnabled() ? parseFastFetch(argv) : undefined
  // A location with credentials is refused, with its own message, by the fast path.
  if (!fetch || argv.some((arg) => withoutUrlCredentials(arg) !== undefined)) return undefined
  const warnings: string[] = []
  let checked: CheckedFetch
  try {
    checked = checkFetch(resolveFetchRequest(fetch.input), (warning) => warnings.push(warning))
  } catch {
    return undefined
  }
  if (!checked.upToDate) return {checked, warnings}
  const reporter = new Reporter({json: fetch.json, quiet: fetch.quiet})
  for (const warning of warnings) reporter.warn(warning)
  reporter.action(describeFetch(checked.upToDate))
  if (fetch.json) writeDirect(1, formatJson(checked.upToDate))
  process.exitCode = 0
  return true
}
