import {Args, Flags} from '@oclif/core'

import {BaseCommand, onClose} from '../base-command.js'
import {ARCHES, ARTIFACT_NAMES, artifactNamed, normalizeArch, validateVersion} from '../core/catalog.js'
import {ExitCode, ReportedFailure, UsageError} from '../core/errors.js'
import {parseLayout} from '../core/fetch-request.js'
import {keepYoungGenerationSmall} from '../core/heap.js'
import {parseLocation} from '../core/location.js'
import {normalizeDigest} from '../integrity/sidecar.js'
import {closeHttp} from '../net/http-client.js'
import {verifyRows, verifySummary} from '../ui/render-verify.js'
import {auditLocation} from '../verify/audit.js'
import {compareLocations} from '../verify/compare.js'
import type {VerifyReport} from '../verify/findings.js'
import {verifyFile} from '../verify/verify-file.js'

export default class Verify extends BaseCommand {
  static override summary = 'Check artifacts against their sidecars, metadata and each other.'

  static override description = `Three modes:
  --file PATH       rehash a local file and compare it with PATH.sha256 (or --sha256)
  --at LOCATION     audit every {version}/{arch} under the artifact's prefix: sidecars present, well-formed, agreeing with metadata (or the content, with --deep), ELF machine matching the arch, no orphan sidecars
  --against LOC...  compare the digest of each version and arch across GitHub, the public bucket and env buckets
Exit 3 on any integrity finding, 4 when the artifact is missing, 0 when clean.`

  static override examples = [
    '<%= config.bin %> verify --file .busybox/1.36.1/amd64/busybox',
    '<%= config.bin %> verify --at gs://prod-fc-busybox --deep',
    '<%= config.bin %> verify --version 1.36.1 --against github:e2b-dev/fc-busybox --against gs://e2b-prod-public-builds --against s3://prod-fc-busybox',
  ]

  static override args = {
    artifact: Args.string({default: 'busybox', description: `Artifact: ${ARTIFACT_NAMES.join(', ')}.`}),
  }

  static override flags = {
    against: Flags.string({description: 'Compare digests across these locations (repeatable).', helpValue: 'LOCATION', multiple: true}),
    arch: Flags.string({description: `Only this architecture: ${ARCHES.join(' or ')}.`}),
    at: Flags.string({description: 'Audit every version and arch at this location.', helpValue: 'LOCATION'}),
    concurrency: Flags.integer({default: 8, description: 'Objects checked at once.', min: 1}),
    deep: Flags.boolean({description: 'With --at: download and rehash every binary instead of trusting metadata.'}),
    file: Flags.string({description: 'Check a local file against PATH.sha256 or --sha256.', helpValue: 'PATH'}),
    layout: Flags.string({description: 'Override the layout detected from the location name.', options: ['public', 'env']}),
    sha256: Flags.string({description: 'With --file: the expected digest.', helpValue: 'HEX'}),
    tag: Flags.string({description: 'With a github: location: the release tag. Default: v{version}.'}),
    version: Flags.string({description: 'Only this version.'}),
  }

  async run(): Promise<VerifyReport> {
    const {args, flags} = await this.parse(Verify)
    keepYoungGenerationSmall()
    this.useOutputFlags(flags)
    onClose(closeHttp)
    const modes = [flags.file, flags.at, flags.against].filter((mode) => mode !== undefined)
    if (modes.length !== 1) throw new UsageError('choose one of --file, --at or --against')
    const artifact = artifactNamed(args.artifact)
    const arch = flags.arch === undefined ? undefined : normalizeArch(flags.arch)
    const version = flags.version === undefined ? undefined : validateVersion(flags.version)
    const layout = parseLayout(flags.layout)
    let report: VerifyReport
    if (flags.file !== undefined) {
      const pin = flags.sha256 === undefined ? undefined : pinned(flags.sha256)
      report = await verifyFile({arch, artifact, file: flags.file, pin})
    } else if (flags.at !== undefined) {
      const location = parseLocation(flags.at)
      report = await this.reporter.withProgress(`auditing ${location.display}`, () =>
        auditLocation({arch, artifact, concurrency: flags.concurrency, deep: flags.deep, layout, location, version}),
      )
    } else {
      const locations = (flags.against ?? []).map((input) => parseLocation(input))
      report = await this.reporter.withProgress(`comparing ${locations.length} locations`, () =>
        compareLocations({arch, artifact, concurrency: flags.concurrency, layout, locations, tag: flags.tag, version}),
      )
    }
    for (const row of verifyRows(report)) this.reporter.action(row)
    this.reporter.action(verifySummary(report))
    if (report.summary.exitCode !== ExitCode.ok) throw new ReportedFailure(verifySummary(report), report.summary.exitCode, report)
    return report
  }
}

function pinned(value: string): string {
  try {
    return normalizeDigest(value, '--sha256')
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
