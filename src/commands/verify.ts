import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {verifyRows, verifySummary} from '../cli/render-verify.js'
import {ARCHES, ARTIFACT_NAMES} from '../core/catalog.js'
import {ExitCode, ReportedFailure} from '../core/errors.js'
import {keepYoungGenerationSmall} from '../core/heap.js'
import type {VerifyReport} from '../services/verify/findings.js'
import {describeVerifyRequest, resolveVerifyRequest} from '../services/verify/request.js'
import {verify} from '../services/verify/verify.js'

export default class Verify extends BaseCommand {
  static override summary = 'Check artifacts against their sidecars, metadata and each other.'

  static override description = `Three modes:
  --file PATH       rehash a local file and compare it with PATH.sha256 (or --sha256)
  --at LOCATION     audit every {version}/{arch} under the artifact's prefix: sidecars present and well-formed, each binary's content matching its sidecar (by the service's own sha256 where it keeps one, otherwise rehashed), ELF machine matching the arch, no orphan sidecars
  --against LOC...  compare the digest of each version and arch across GitHub, the public bucket and env buckets
Never exits 0 for a hash it did not check, except with --metadata-only, which downloads no binary and lists what it could not check as unverified.
Exit 3 on any integrity finding, 4 when the artifact is missing, 0 when clean.`

  static override examples = [
    '<%= config.bin %> verify --file .busybox/1.36.1/amd64/busybox',
    '<%= config.bin %> verify --at gs://prod-fc-busybox --deep',
    '<%= config.bin %> verify --version 1.36.1 --against github:e2b-dev/fc-busybox --against https://storage.googleapis.com/e2b-artifact-binaries --against s3://prod-fc-busybox',
  ]

  static override args = {
    artifact: Args.string({default: 'busybox', description: `Artifact: ${ARTIFACT_NAMES.join(', ')}.`}),
  }

  static override flags = {
    against: Flags.string({description: 'Compare digests across these locations (repeatable).', helpValue: 'LOCATION', multiple: true}),
    arch: Flags.string({description: `Only this architecture: ${ARCHES.join(' or ')}.`}),
    at: Flags.string({description: 'Audit every version and arch at this location.', helpValue: 'LOCATION'}),
    concurrency: Flags.integer({default: 8, description: 'Objects checked at once.', min: 1}),
    deep: Flags.boolean({description: "With --at: rehash every binary, even those the service's own sha256 vouches for."}),
    file: Flags.string({description: 'Check a local file against PATH.sha256 or --sha256.', helpValue: 'PATH'}),
    'metadata-only': Flags.boolean({
      description: 'With --at: download no binary; compare sidecars with the metadata only, and list what that cannot check as unverified (exit 0).',
    }),
    layout: Flags.string({description: 'Override the layout detected from the location name.', options: ['public', 'env']}),
    lock: Flags.string({
      description:
        'With --at or --against: compare every version and arch found with this lock file (exit 3 on a disagreement). Default: E2B_ARTIFACTS_LOCK; no lock file is looked for.',
      helpValue: 'PATH',
    }),
    sha256: Flags.string({description: 'With --file: the expected digest.', helpValue: 'HEX'}),
    tag: Flags.string({description: 'With a github: location: the release tag. Default: v{version}.'}),
    version: Flags.string({description: 'Only this version.'}),
  }

  async run(): Promise<VerifyReport> {
    const {args, flags} = await this.parse(Verify)
    keepYoungGenerationSmall()
    this.useOutputFlags(flags)
    const request = resolveVerifyRequest({...flags, artifact: args.artifact})
    const report = await this.reporter.withProgress(describeVerifyRequest(request), () => verify(request))
    for (const row of verifyRows(report)) this.reporter.action(row)
    this.reporter.action(verifySummary(report))
    if (report.summary.exitCode !== ExitCode.ok) throw new ReportedFailure(verifySummary(report), report.summary.exitCode, report)
    return report
  }
}
