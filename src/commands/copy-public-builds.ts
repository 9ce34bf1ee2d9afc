import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {describeArtifactErrors, describeFailure, describeObject, describeSummary, isProblem} from '../cli/render-copy.js'
import {ARTIFACT_NAMES} from '../core/catalog.js'
import {ExitCode, ReportedFailure} from '../core/errors.js'
import {keepYoungGenerationSmall} from '../core/heap.js'
import {type CopyReport, copyPublicBuilds} from '../services/copy/copy.js'
import {resolveCopyRequest} from '../services/copy/request.js'

export default class CopyPublicBuilds extends BaseCommand {
  static override summary = 'Copy the public builds (busybox, kernels, Firecracker) into per-environment buckets, verified.'

  static override description = `Copies every object under each artifact's prefix of the public bucket into the root of its environment bucket: {PREFIX}fc-busybox, {PREFIX}fc-kernels and {PREFIX}fc-versions (on Azure, the containers fc-busybox, fc-kernels and fc-versions of one storage account).
With no --from, the public bucket is read and listed anonymously over https (no Google credentials needed, stale ones ignored). Companion files (vmlinux.debug, firecracker-debug, ...) and legacy flat {version}/{file} builds are copied like the rest. Into a directory (--to busybox=file:///fc-busybox), binaries are installed 0755 and sidecars 0644, each staged and renamed.
Objects the destination already holds with identical content (sha256 metadata, then crc32c, then md5; never size alone) are skipped. Within one provider the copy is server side; between providers it streams through memory with an in-flight sha256 check, never touching the disk. Every copied object is verified; a sidecar is checked against its object and written only after it.
Different content at the destination is a conflict (exit 5, left untouched) unless --force. Exit codes: 3 if anything failed integrity, else 5 for a conflict, else 4 for not found, else 1 for any other failure.`

  static override examples = [
    '<%= config.bin %> copy-public-builds --provider gcp --bucket-prefix e2b-staging-',
    '<%= config.bin %> copy-public-builds --provider aws --bucket-prefix e2b-staging- --artifact busybox --version 1.36.1',
    '<%= config.bin %> copy-public-builds --provider azure --storage-account e2bstaging',
    '<%= config.bin %> copy-public-builds --to busybox=file:///fc-busybox --to kernel=file:///fc-kernels --to firecracker=file:///fc-versions',
    '<%= config.bin %> copy-public-builds --from gs://e2b-artifact-binaries --to busybox=s3://my-busybox --dry-run',
  ]

  static override flags = {
    artifact: Flags.string({description: 'Artifact to copy; repeatable. Default: all three (or those named by --to).', multiple: true, options: ARTIFACT_NAMES}),
    'bucket-prefix': Flags.string({description: 'Environment bucket prefix: busybox goes to {PREFIX}fc-busybox, and so on.', helpValue: 'PREFIX'}),
    concurrency: Flags.integer({default: 8, description: 'Objects copied at the same time (1-64).', max: 64, min: 1}),
    'dry-run': Flags.boolean({description: 'Report what would be copied; write nothing.'}),
    force: Flags.boolean({description: 'Overwrite destination objects whose content differs.'}),
    from: Flags.string({
      description:
        'The public bucket, as a listable location: https://storage.googleapis.com/BUCKET (anonymous), gs://bucket (Google credentials), s3://bucket, az://account/container or file:///dir. Default: E2B_ARTIFACTS_COPY_FROM, else https://storage.googleapis.com/ of the public bucket (E2B_ARTIFACTS_PUBLIC_BUCKET, else e2b-artifact-binaries).',
      helpValue: 'LOCATION',
    }),
    layout: Flags.string({description: "Override the destinations' layout detected from their names (public: under the artifact's prefix; env: at the root).", options: ['public', 'env']}),
    lock: Flags.string({
      description:
        'A lock file: an object it pins is copied only if its content matches (else exit 3, and neither it nor its sidecar is copied); objects it does not pin are copied as usual. Default: E2B_ARTIFACTS_LOCK; no lock file is looked for.',
      helpValue: 'PATH',
    }),
    provider: Flags.string({description: 'Destination cloud: gcp (gs://) or aws (s3://) with --bucket-prefix; azure (az://) with --storage-account.', options: ['gcp', 'aws', 'azure']}),
    'storage-account': Flags.string({description: 'Azure storage account for --provider azure: busybox goes to az://NAME/fc-busybox, and so on.', helpValue: 'NAME'}),
    to: Flags.string({description: 'Explicit destination for one artifact; repeatable.', helpValue: 'ARTIFACT=LOCATION', multiple: true}),
    version: Flags.string({description: 'Copy only this version.'}),
  }

  async run(): Promise<CopyReport> {
    const {flags} = await this.parse(CopyPublicBuilds)
    keepYoungGenerationSmall()
    this.useOutputFlags(flags)
    const request = resolveCopyRequest(flags)
    const report = await this.reporter.withProgress('copying public builds', () =>
      copyPublicBuilds(request, {
        onObject: (outcome) => (isProblem(outcome) ? this.reporter.always(describeObject(outcome)) : this.reporter.action(describeObject(outcome))),
        onRetry: (message) => this.reporter.warn(message),
        onWarning: (message) => this.reporter.warn(message),
      }),
    )
    for (const line of describeArtifactErrors(report)) this.reporter.always(line)
    // The summary is the one line --quiet keeps; --json carries it in the document instead.
    if (!flags.json) this.reporter.always(describeSummary(report.summary, report.dryRun))
    if (report.summary.exitCode !== ExitCode.ok) throw new ReportedFailure(describeFailure(report), report.summary.exitCode, report)
    return report
  }
}
