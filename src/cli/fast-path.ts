import {fastPathEnabled} from '../core/config.js'
import {credentialsInLocation, withoutUrlCredentials} from '../core/location.js'
import {writeDirect} from './direct-write.js'
import {parseFastFetch} from './fetch-args.js'
import {renderFailure} from './render-error.js'
import {Reporter, formatJson} from './reporter.js'
import {type FetchHandoff, runFetch} from './run-fetch.js'

/**
 * A location with credentials in it (`gs://user:secret@bucket`) is refused
 * before oclif sees the command line: oclif's debug output (DEBUG=*) prints
 * argv as it is, and its parser errors may echo a flag's value. Every
 * command runs through here first. Returns whether it refused.
 */
function refuseCredentials(argv: readonly string[]): boolean {
  for (const arg of argv) {
    const masked = withoutUrlCredentials(arg)
    if (masked === undefined) continue
    // From the scheme on: not the `--to=` or `busybox=` in front of the location.
    const shown = /(?:[a-z][a-z0-9+.-]*:\/\/|github:)\S*$/i.exec(masked)?.[0] ?? masked
    process.exitCode = renderFailure(credentialsInLocation(shown), {json: argv.includes('--json'), verbose: argv.includes('--verbose')})
    return true
  }
  return false
}

/**
 * Runs `fetch` without loading oclif, which alone costs more than a whole
 * Node.js start-up, and `fetch` runs on every `make`. Only well-formed
 * invocations take this path (cli/fetch-args); anything else returns false,
 * and oclif handles it and owns its messages. Execution and error rendering
 * are the command's own. `handoff` is what cli/up-to-date-path.ts, which ran
 * first, learnt about this command line. E2B_ARTIFACTS_FAST_PATH=0 turns the
 * fast path off (tests use it to cover the oclif path).
 */
export async function tryFastPath(argv: readonly string[], handoff?: FetchHandoff): Promise<boolean> {
  if (refuseCredentials(argv)) return true
  const fetch = fastPathEnabled() ? parseFastFetch(argv) : undefined
  if (!fetch) return false
  try {
    const result = await runFetch(fetch.input, new Reporter({json: fetch.json, quiet: fetch.quiet}), handoff)
    if (fetch.json) writeDirect(1, formatJson(result))
    process.exitCode = 0
  } catch (error) {
    process.exitCode = renderFailure(error, {json: fetch.json, verbose: fetch.verbose})
  }
  return true
}
