import {Command, Flags} from '@oclif/core'

import {renderFailure} from './render-error.js'
import {Reporter, formatJson} from './reporter.js'

/**
 * The behaviour every command shares: --json/--quiet/--verbose, one-line
 * errors on stderr, and the documented exit code for every error. oclif would
 * exit 1 under --json whatever the error was; catch() here is the one place
 * that stops it (by rendering the error itself and not rethrowing).
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

  override async catch(error: Error): Promise<void> {
    process.exitCode = renderFailure(error, {command: this.id, json: this.jsonEnabled(), verbose: this.argv.includes('--verbose')})
  }
}
