import {Command, Flags} from '@oclif/core'

import {ExitCode, ReportedFailure, exitCodeOf, kindOf} from './core/errors.js'
import {redact} from './ui/redact.js'
import {Reporter, formatJson} from './ui/reporter.js'

/** Cleanups (connection pools) that must run before the process exits. */
const closers: Array<() => Promise<void>> = []

export function onClose(closer: () => Promise<void>): void {
  closers.push(closer)
}

/**
 * The behaviour every command shares: --json/--quiet/--verbose, one-line
 * errors on stderr, and the documented exit code for every error. oclif would
 * exit 1 under --json whatever the error was; this is the one place that
 * stops it.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    quiet: Flags.boolean({char: 'q', description: 'Print nothing but errors.'}),
    verbose: Flags.boolean({description: 'Show stack traces on errors.'}),
  }

  protected reporter = new Reporter({json: false, quiet: false})

  /** Call right after parse(), so that output honours --json and --quiet. */
  protected useOutputFlags(flags: {json?: boolean; quiet?: boolean}): void {
    this.reporter = new Reporter({json: Boolean(flags.json), quiet: Boolean(flags.quiet)})
  }

  override logJson(json: unknown): void {
    process.stdout.write(formatJson(json))
  }

  override async catch(error: Error & {exitCode?: number}): Promise<void> {
    const exitCode = exitCodeOf(error)
    const message = redact(firstLine(error.message || String(error)))
    process.stderr.write(`e2b-artifacts: error: ${message}\n`)
    if (this.argv.includes('--verbose') || process.env.DEBUG) process.stderr.write(`${redact(error.stack ?? '')}\n`)
    if (this.jsonEnabled()) {
      const failure = {error: {exitCode, kind: kindOf(error), message}}
      this.logJson(error instanceof ReportedFailure ? {...error.report, ...failure} : failure)
    }
    process.exitCode = exitCode === ExitCode.ok ? 0 : exitCode
  }

  override async finally(error: Error | undefined): Promise<void> {
    await Promise.allSettled(closers.splice(0).map((close) => close()))
    await super.finally(error)
  }
}

function firstLine(message: string): string {
  return message.split('\n').find((line) => line.trim() !== '')?.trim() ?? message
}
