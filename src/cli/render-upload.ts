import type {DigestSource} from '../services/shared/release-source.js'
import type {VerifiedBinary} from '../services/shared/release-binary.js'
import type {ArchResult} from '../services/upload/upload.js'
import {formatBytes} from './reporter.js'

export interface UploadLabel {
  readonly artifact: string
  readonly version: string
}

const DIGEST_NAMES: Readonly<Record<DigestSource, string>> = {
  'SHA256SUMS': 'SHA256SUMS',
  'api-digest': 'the GitHub API digest',
  metadata: 'its sha256 metadata',
  'service-checksum': "the service's checksum",
  sidecar: 'its .sha256 sidecar',
}

const CHECK_NAMES = {'elf-machine': 'ELF machine', static: 'static', 'version-string': 'version string'} as const

/** "matches SHA256SUMS and the GitHub API digest; ELF machine, static, version string, ran: …": what a verified binary passed. */
export function describeChecks(binary: VerifiedBinary): string {
  const digest = binary.verifiedBy.length > 0 ? `matches ${binary.verifiedBy.map((by) => DIGEST_NAMES[by]).join(' and ')}` : 'no independent digest'
  const checks = binary.checks.map((check) => CHECK_NAMES[check])
  const run = binary.run.ran ? `ran: ${binary.run.banner}` : binary.run.reason
  return `${digest}; ${[...checks, run].join(', ')}`
}

function what(label: UploadLabel, arch: string): string {
  return `${label.artifact} ${label.version}/${arch}`
}

/** The line printed once an arch has passed every check. */
export function describeVerified(label: UploadLabel, binary: VerifiedBinary): string {
  return `verified ${what(label, binary.arch)} from ${binary.source} (${formatBytes(binary.size)}, sha256 ${binary.sha256.slice(0, 12)}…, ${describeChecks(binary)})`
}

/** The line printed once an arch is published, found already published, or (dry run) would be published. */
export function describeDone(label: UploadLabel, result: ArchResult): string {
  const subject = what(label, result.arch)
  const digest = `sha256 ${result.sha256.slice(0, 12)}…`
  if (result.status === 'already-published') return `${subject} is already published at ${result.destination} (${digest})`
  const binary = result.writes.includes(result.key)
  const targets = binary ? `${result.destination} and its .sha256` : `the missing sidecar ${result.destination}.sha256 (the binary was already there)`
  if (result.status === 'would-publish') return `would ${result.replaced ? 'replace' : 'publish'} ${subject} at ${targets} (dry run: nothing written)`
  return `${result.replaced ? 'replaced' : 'published'} ${subject} at ${targets} (${formatBytes(result.size)}, ${digest}, read back and verified)`
}
