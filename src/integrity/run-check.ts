import {type Arch, hostArch} from '../core/catalog.js'
import {sandboxSetting} from '../core/config.js'
import {IntegrityError, UsageError} from '../core/errors.js'
import {type BinaryFacts, versionMarker} from './binary-checks.js'
import {SANDBOX_KINDS, type SandboxKind, runSandboxed} from './sandbox.js'

/** Long enough for a slow CI runner; busybox prints its banner in milliseconds. */
const RUN_TIMEOUT_MS = 15_000
/** The banner is the first line; nothing a well-behaved busybox prints with no arguments comes near this. */
const MAX_OUTPUT_BYTES = 64 * 1024

export type RunOutcome =
  /** The binary ran (in `sandbox`) and announced the expected version; `banner` is its first line. */
  | {readonly ran: true; readonly banner: string; readonly sandbox: SandboxKind}
  /** `warning`: the run was skipped for a reason the uploader should hear about (no sandbox here). */
  | {readonly ran: false; readonly reason: string; readonly warning?: string}

export interface RunCheckOptions {
  /** The sandboxes allowed, in order; default E2B_ARTIFACTS_SANDBOX, else every kind. `[]`: none, so the run is skipped. */
  readonly sandboxes?: readonly SandboxKind[]
}

/** E2B_ARTIFACTS_SANDBOX as a list of sandbox kinds (`none`: the empty list). */
export function configuredSandboxes(): readonly SandboxKind[] {
  const setting = sandboxSetting()
  if (!setting) return SANDBOX_KINDS
  if (setting.value === 'none') return []
  const names = setting.value.split(',').map((name) => name.trim())
  const unknown = names.filter((name) => !(SANDBOX_KINDS as readonly string[]).includes(name))
  if (unknown.length > 0) throw new UsageError(`${setting.name}='${setting.value}': expected none or a comma-separated list of ${SANDBOX_KINDS.join(', ')}`)
  return names as SandboxKind[]
}

/** The host's arch, or undefined on one the catalog does not know (nothing there can run our binaries). */
function currentArch(): Arch | undefined {
  try {
    return hostArch()
  } catch {
    return undefined
  }
}

/**
 * Runs a staged busybox with no arguments, when this host can execute it, and
 * checks that the banner it prints names the version being published. This
 * catches a binary that merely contains the version string somewhere, or that
 * does not start at all. The binary was downloaded: it runs only inside a
 * sandbox (integrity/sandbox) with no credentials, no network, no host files
 * and no environment, and is killed at a deadline. Where no sandbox works, it
 * does not run at all: the static checks (ELF machine, static linking, the
 * version string) still hold, and the skip is reported as a warning.
 */
export async function runCheck(file: string, facts: BinaryFacts, where: string, options: RunCheckOptions = {}): Promise<RunOutcome> {
  if (!versionMarker(facts.artifact, facts.version)) return {ran: false, reason: `${facts.artifact.name} has no banner to check`}
  const host = currentArch()
  if (facts.arch !== host) return {ran: false, reason: `not run: this host is ${host ?? process.arch}`}
  const result = await runSandboxed(file, [], {
    argv0: facts.artifact.file,
    maxOutputBytes: MAX_OUTPUT_BYTES,
    sandboxes: options.sandboxes ?? configuredSandboxes(),
    timeoutMs: RUN_TIMEOUT_MS,
  })
  if (!result.ran) {
    return {
      ran: false,
      reason: 'not run: no sandbox',
      warning: `${where} was not run: no sandbox is available here (${result.reason}); the static checks (ELF machine, static linking, version string) passed, and a downloaded binary is never run outside a sandbox`,
    }
  }
  if (result.timedOut) throw new IntegrityError(`${where} did not exit within ${RUN_TIMEOUT_MS / 1000} s when run with no arguments (in a ${result.sandbox} sandbox)`)
  const output = `${result.stdout}\n${result.stderr}`
  const banner = /^BusyBox v(\S+).*$/m.exec(output)
  if (!banner) {
    const status = result.signal ? `signal ${result.signal}` : `exit code ${result.exitCode ?? 'none'}`
    throw new IntegrityError(`${where} printed no BusyBox banner when run in a ${result.sandbox} sandbox (${status})`)
  }
  if (banner[1] !== facts.version) throw new IntegrityError(`running ${where} reports BusyBox v${banner[1]}, not v${facts.version}`)
  return {banner: banner[0].trim(), ran: true, sandbox: result.sandbox}
}
