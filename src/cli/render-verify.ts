import type {Finding, VerifyReport} from '../services/verify/findings.js'

const LABELS: Readonly<Record<Finding['severity'], string>> = {info: 'NOTE', integrity: 'FAIL', 'not-found': 'MISSING', ok: 'OK'}

/** One row per finding, aligned in columns: status, version/arch, message. */
export function verifyRows(report: VerifyReport): string[] {
  const rows = report.findings.map((finding) => [LABELS[finding.severity], [finding.version, finding.arch].filter(Boolean).join('/') || '-', finding.message])
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) => `${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]}`)
}

export function verifySummary(report: VerifyReport): string {
  const {checked, problems} = report.summary
  return `verify ${report.mode}: ${report.artifact}: ${checked} checked, ${problems === 0 ? 'no problems' : `${problems} problem${problems === 1 ? '' : 's'}`}`
}
