import {type ParseArgsConfig, parseArgs} from 'node:util'

import {resolveFetchRequest} from './core/fetch-request.js'
import {checkUpToDate} from './transfer/up-to-date.js'
import {describeFetch} from './ui/render-fetch.js'
import {formatJson} from './ui/reporter.js'

/**
 * The options of `fetch` (see src/commands/fetch.ts and base-command.ts). A
 * unit test keeps this list equal to the oclif command's flags.
 */
export const FAST_FETCH_OPTIONS = {
  arch: {type: 'string'},
  force: {type: 'boolean'},
  from: {type: 'string'},
  json: {type: 'boolean'},
  layout: {type: 'string'},
  out: {type: 'string'},
  quiet: {short: 'q', type: 'boolean'},
  sha256: {type: 'string'},
  verbose: {type: 'boolean'},
  version: {type: 'string'},
} as const satisfies ParseArgsConfig['options']

/**
 * Answers an up-to-date `fetch` without loading oclif, which alone costs more
 * than a whole Node.js start-up. It handles only that one case and returns
 * false for anything else (help, --force, odd arguments, any error, any
 * download), so that the full command does the work and owns every message.
 */
export async function tryFastPath(argv: readonly string[]): Promise<boolean> {
  if (argv[0] !== 'fetch') return false
  let values: {[K in keyof typeof FAST_FETCH_OPTIONS]?: (typeof FAST_FETCH_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string}
  let positionals: string[]
  try {
    ;({positionals, values} = parseArgs({allowPositionals: true, args: argv.slice(1), options: FAST_FETCH_OPTIONS, strict: true}))
  } catch {
    return false
  }
  if (positionals.length > 1 || values.force) return false
  let result
  try {
    result = await checkUpToDate(resolveFetchRequest({...values, artifact: positionals[0]}))
  } catch {
    return false
  }
  if (!result) return false
  if (values.json) process.stdout.write(formatJson(result))
  else if (!values.quiet) process.stderr.write(`${describeFetch(result)}\n`)
  return true
}
