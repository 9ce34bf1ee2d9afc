import {chmod} from 'node:fs/promises'
import path from 'node:path'

import {type Arch, hostArch} from '../core/catalog.js'
import {IntegrityError, OperationalError} from '../core/errors.js'
import {type BinaryFacts, versionMarker} from './binary-checks.js'

/** Long enough for a slow CI runner; busybox prints its banner in milliseconds. */
const RUN_TIMEOUT_MS = 15_000

export type RunOutcome =
  /** The binary ran and announced the expected version; `banner` is its first line. */
  | {readonly ran: true; readonly banner: string}
  | {readonly ran: false; readonly reason: string}

/**
 * Runs a staged busybox with no arguments, when this host can execute it, and
 * checks that the banner it prints names the version being published. This
 * catches a binary that merely contains the version string somewhere, or that
 * does not start at all. The child gets no environment (so no tokens) and no
 * stdin, and is killed after a timeout.
 */
/** The host's arch, or undefined on one the catalog does not know (nothing there can run our binaries). */
function currentArch(): Arch | undefined {
  try {
    return hostArch()
  } catch {
    return undefined
  }
}

export async function runCheck(file: string, facts: BinaryFacts, where: string): Promise<RunOutcome> {
  if (!versionMarker(facts.artifact, facts.version)) return {ran: false, reason: `${facts.artifact.name} has no banner to check`}
  const host = currentArch()
  if (facts.arch !== host) return {ran: false, reason: `not run: this host is ${host ?? process.arch}`}
  // Only the owner needs to execute it: the temp file lives in a shared temp directory.
  await chmod(file, 0o700)
  const {execa} = await import('execa')
  const result = await execa(file, [], {
    // BusyBox dispatches on argv[0]: under its temp-file name it would look for an applet of that name.
    argv0: facts.artifact.file,
    cwd: path.dirname(file),
    env: {},
    extendEnv: false,
    maxBuffer: 1_000_000,
    reject: false,
    stdin: 'ignore',
    timeout: RUN_TIMEOUT_MS,
  })
  if (result.timedOut) throw new IntegrityError(`${where} did not exit within ${RUN_TIMEOUT_MS / 1000} s when run with no arguments`)
  if (result.code === 'EACCES' || result.code === 'EPERM') {
    throw new OperationalError(`cannot execute the staged copy of ${where} in ${path.dirname(file)} (mounted noexec?): set TMPDIR to a directory that allows execution`)
  }
  if (result.code === 'ENOEXEC') throw new IntegrityError(`${where} is not executable on this ${host} host (ENOEXEC)`)
  const output = `${String(result.stdout)}\n${String(result.stderr)}`
  const banner = /^BusyBox v(\S+).*$/m.exec(output)
  if (!banner) throw new IntegrityError(`${where} printed no BusyBox banner when run (exit code ${result.exitCode ?? 'none'})`)
  if (banner[1] !== facts.version) throw new IntegrityError(`running ${where} reports BusyBox v${banner[1]}, not v${facts.version}`)
  return {banner: banner[0].trim(), ran: true}
}
