import {debugEnabled} from '../core/config.js'
import {ArtifactError, ExitCode, type ExitCodeValue, ReportedFailure, exitCodeOf, fileSystemError, kindOf} from '../core/errors.js'
import {redact} from './redact.js'
import {formatJson} from './reporter.js'

export interface FailureOutput {
  readonly json: boolean
  readonly verbose: boolean
  /** The command that failed, for the "see --help" hint of a usage error from the flag parser. */
  readonly command?: string
}

function firstLine(message: string): string {
  return message.split('\n').find((line) => line.trim() !== '')?.trim() ?? message
}

/** Terminal colour codes, which oclif puts in some messages when stderr is a TTY. */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g
const HELP_FOOTER = /^See more help with --help$/
const VALIDATION_HEADER = /^The following errors? occurred:$/

/**
 * oclif's parser errors span several lines: a header ("The following error
 * occurred:", "Parsing --concurrency"), the reason on the next line, and a
 * footer. As one line: the header joined to its reasons, without the footer.
 */
function parserMessage(message: string): string {
  const lines = message
    .replaceAll(ANSI, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !HELP_FOOTER.test(line))
  const listed = lines.length > 0 && VALIDATION_HEADER.test(lines[0]!)
  const text = listed ? lines.slice(1).join('; ') : lines.join(': ')
  return text
    .replaceAll(/\bMissing required flag (\w[\w-]*)/g, 'missing required flag --$1')
    .replace(/^Parsing (--[\w-]+): Expected/, 'invalid $1: expected')
    .replace(/^Missing \d+ required args?:: (\w+)\s.*$/, (_, name: string) => `missing required argument ${name.toUpperCase()}`)
}

/** The one line an error is reported as: its own message, or a cleaned-up parser or file-system message. */
export function failureLine(error: unknown, command?: string): string {
  if (error instanceof ArtifactError) return firstLine(error.message || String(error))
  const fileSystem = fileSystemError(error)
  if (fileSystem) return fileSystem.message
  const message = error instanceof Error ? error.message || String(error) : String(error)
  const fromParser = (error as {oclif?: unknown} | undefined)?.oclif !== undefined || message.split('\n').some((line) => HELP_FOOTER.test(line.trim()))
  if (!fromParser) return firstLine(message)
  const line = parserMessage(message) || firstLine(message)
  return command && exitCodeOf(error) === ExitCode.usage ? `${line} (see 'e2b-artifacts ${command} --help')` : line
}

/**
 * Prints a failure the one documented way: one line on stderr (a stack only
 * when asked), plus one JSON document on stdout under --json. Returns the exit
 * code for the error.
 */
export function renderFailure(error: unknown, output: FailureOutput): ExitCodeValue {
  const exitCode = exitCodeOf(error)
  const message = redact(failureLine(error, output.command))
  process.stderr.write(`e2b-artifacts: error: ${message}\n`)
  if (output.verbose || debugEnabled()) process.stderr.write(`${redact((error as Error | undefined)?.stack ?? '')}\n`)
  if (output.json) {
    const failure = {error: {exitCode, kind: kindOf(error), message}}
    process.stdout.write(formatJson(error instanceof ReportedFailure ? {...error.report, ...failure} : failure))
  }
  return exitCode
}
