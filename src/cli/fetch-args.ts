import type {FetchInput} from '../services/fetch/request.js'
import {type FastOption, parseFastArgs} from './fast-args.js'

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

/** A `fetch` command line as the fast paths take it: what to fetch, and how to report it. */
export interface FastFetch {
  readonly input: FetchInput
  readonly json: boolean
  readonly quiet: boolean
  readonly verbose: boolean
}

/**
 * `argv` (the whole command line) as a well-formed `fetch`, or undefined for
 * anything else, which oclif then handles and owns the messages of: another
 * command, help, unknown or repeated flags, extra arguments (see cli/fast-args).
 */
export function parseFastFetch(argv: readonly string[]): FastFetch | undefined {
  if (argv[0] !== 'fetch') return undefined
  const parsed = parseFastArgs(argv.slice(1), FAST_FETCH_OPTIONS)
  if (!parsed || parsed.positionals.length > 1) return undefined
  const values = parsed.values as FetchValues
  return {
    input: {...values, artifact: parsed.positionals[0]},
    json: values.json ?? false,
    quiet: values.quiet ?? false,
    verbose: values.verbose ?? false,
  }
}
