import type {Hook} from '@oclif/core'

import {UsageError} from '../core/errors.js'
import {renderFailure} from './render-error.js'

/**
 * oclif's `command_not_found` hook (registered in package.json): an unknown
 * command is a usage error like any other, one line on stderr, exit 2, and
 * one JSON document on stdout under --json. oclif would print its own
 * multi-line message and nothing on stdout.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const known = options.config.commands.map((command) => command.id).sort()
  const error = new UsageError(`unknown command '${options.id}': expected one of ${known.join(', ')} (see e2b-artifacts --help)`)
  process.exitCode = renderFailure(error, {json: options.argv?.includes('--json') ?? false, verbose: options.argv?.includes('--verbose') ?? false})
}

export default hook
