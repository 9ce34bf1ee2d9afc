import {ExitCode, type ExitCodeValue} from '../../core/errors.js'
import {mostSevere} from '../../core/failures.js'

export type FindingKind =
  | 'ok'
  | 'missing-sidecar'
  | 'orphan-sidecar'
  | 'malformed-sidecar'
  | 'digest-mismatch'
  | 'metadata-mismatch'
  | 'elf-mismatch'
  | 'unverified'
  | 'unexpected-object'
  | 'unsafe-key'
  | 'missing'
  | 'disagree'
  | 'locked'
  | 'lock-mismatch'
  | 'not-locked'

/** How much a finding matters: integrity findings fail the run with exit 3. */
export type Severity = 'ok' | 'info' | 'integrity' | 'not-found'

export interface Finding {
  readonly kind: FindingKind
  readonly severity: Severity
  /** Where it was found (a location or file, safe to print). */
  readonly where: string
  readonly version?: string
  readonly arch?: string
  readonly message: string
  readonly sha256?: string
}

export interface VerifyReport {
  readonly mode: 'against' | 'at' | 'file'
  readonly artifact: string
  readonly findings: readonly Finding[]
  readonly summary: {readonly checked: number; readonly problems: number; readonly exitCode: ExitCodeValue}
}

const EXIT_CODES: Readonly<Record<Severity, ExitCodeValue>> = {info: ExitCode.ok, integrity: ExitCode.integrity, 'not-found': ExitCode.notFound, ok: ExitCode.ok}

/** Exit 3 for any integrity finding, else 4 for anything missing, else 0. */
export function exitCodeFor(findings: readonly Finding[]): ExitCodeValue {
  return mostSevere(findings.map((finding) => EXIT_CODES[finding.severity]))
}

export function buildReport(mode: VerifyReport['mode'], artifact: string, findings: Finding[], checked: number): VerifyReport {
  return {
    artifact,
    findings,
    mode,
    summary: {checked, exitCode: exitCodeFor(findings), problems: findings.filter((f) => f.severity === 'integrity' || f.severity === 'not-found').length},
  }
}
