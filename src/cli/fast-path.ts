import {fastPathEnabled} from '../core/config.js'
import {credentialsInLocation, withoutUrlCredentials} from '../core/location.js'
import {writeDirect} from './direct-write.js'
import {type FastOption, parseFastArgs} from './fast-args.js'
import {renderFailure} from './render-error.js'
import {Reporter, formatJson} from './reporter.js'
import {runFetch} from './run-fetch.js'

/**
 * The options of `fetch` (see src/commands/fetch.ts and cli/base-command.ts). A
 * unit test keeps this list equal to the oclif command's flags.
 */
export const FAST_FETCH_OPTIONS = {
  'allow-unverified': {type: 'boolean'},
  arch: {type: 'string'},
  force: {type: 'boolean'},
  from: {type: 'string'},
  json: {type: 'boolean'},
  layout: {type: 'string'},
  lock: {type: 'string'},
  locked: {type: 'boolean'},
  'no-lock': {type: 'boolean'},
  out: {type: 'string'},
  quiet: {short: 'q', type: 'boolean'},
  sha256: {type: 'string'},
  verbose: {type: 'boolean'},
  version: {type: 'string'},
} as const satisfies Record<string, FastOption>

type FetchValues = {[K in keyof typeof FAST_FETCH_OPTIONS]?: (typeof FAST_FETCH_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string}

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
 * invocations take this path: anything cli/fast-args does not take (help,
 * unknown or repeated flags, extra arguments) returns false, and oclif handles it and
 * owns its messages. Execution and error rendering are the command's own.
 * E2B_ARTIFACTS_FAST_PATH=0 turns it off (tests use it to cover the oclif path).
 */
export async function tryFastPath(argv: readonly string[]): Promise<boolean> {
  if (refuseCredentials(argv)) return true
  if (argv[0] !== 'fetch' || !fastPathEnabled()) return false
  const parsed = parseFastArgs(argv.slice(1), FAST_FETCH_OPTIONS)
  if (!parsed || parsed.positionals.length > 1) return false
  const values = parsed.values as FetchValues
  const {positionals} = parsed
  const json = values.json ?? false
  try {
    const result = await runFetch({...values, artifact: positionals[0]}, new Reporter({json, quiet: values.quiet ?? false}))
    if (json) writeDirect(1, formatJson(result))
    process.exitCode = 0
  } catch (error) {
    process.exitCode = renderFailure(error, {json, verbose: values.verbose ?? false})
  }
  return true
}
