import {debugEnabled} from '../core/config.js'
import {type ExitCodeValue, ReportedFailure, exitCodeOf, kindOf} from '../core/errors.js'
import {redact} from './redact.js'
import {formatJson} from './reporter.js'

export interface FailureOutput {
  readonly json: boolean
  readonly verbose: boolean
}

function firstLine(message: string): string {
  return message.split('\n').find((line) => line.trim() !== '')?.trim() ?? message
}

/**
 * Prints a failure the one documented way: one line on stderr (a stack only
 * when asked), plus one JSON document on stdout under --json. Returns the exit
 * code for the error.
 */
export function renderFailure(error: unknown, output: FailureOutput): ExitCodeValue {
  const exitCode = exitCodeOf(error)
  const message = redact(firstLine(error instanceof Error ? error.message || String(error) : String(error)))
  process.stderr.write(`e2b-artifacts: error: ${message}\n`)
  if (output.verbose || debugEnabled()) process.stderr.write(`${redact((error as Error | undefined)?.stack ?? '')}\n`)
  if (output.json) {
    const failure = {error: {exitCode, kind: kindOf(error), message}}
    process.stdout.write(formatJson(error instanceof ReportedFailure ? {...error.report, ...failure} : failure))
  }
  return exitCode
}
