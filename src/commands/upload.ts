import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {describeDone, describeVerified} from '../cli/render-upload.js'
import {ARCHES, ARTIFACT_NAMES} from '../core/catalog.js'
import {DEFAULT_RELEASE_REPO} from '../core/config.js'
import {resolveUploadRequest} from '../services/upload/request.js'
import {type UploadResult, upload} from '../services/upload/upload.js'

export default class Upload extends BaseCommand {
  static override summary = 'Publish a verified release binary and its .sha256 sidecar to a bucket.'

  static override description = `Stages every requested arch from the GitHub release (or a local build directory) into temp files, checks each against SHA256SUMS and the API digest (or the local .sha256), checks the ELF machine, static linking and the version string, and runs the binary when it matches this host, only ever inside a sandbox (bwrap, or unshare) with no credentials, network or host files in reach; where no sandbox works the run is skipped with a warning (E2B_ARTIFACTS_SANDBOX=none skips it too). Only when every arch passes are the binaries published, each with an only-if-absent precondition and followed by its sidecar, then read back.
A local build needs no sidecar (fc-busybox's build.sh writes none): without one, a warning says that nothing independent vouches for the digest, and the sidecar published records the digest computed here.
An identical existing object is "already published" (exit 0); different content is a conflict (exit 5) and nothing is written, unless --force. When several arches fail, the exit code is the most severe: integrity (3), then conflict (5), not found (4), operational (1).`

  static override examples = [
    '<%= config.bin %> upload --version 1.36.1',
    '<%= config.bin %> upload --version 1.36.1 --tag v1.36.1-20260401 --dry-run',
    '<%= config.bin %> upload --version 1.36.1 --arch arm64 --from ./builds --to s3://my-env-fc-busybox',
  ]

  static override args = {
    artifact: Args.string({default: 'busybox', description: `Artifact to publish: ${ARTIFACT_NAMES.join(', ')}.`}),
  }

  static override flags = {
    arch: Flags.string({description: `Architecture, repeatable: ${ARCHES.join(', ')} (aliases x86_64, aarch64). Default: both.`, multiple: true}),
    'dry-run': Flags.boolean({description: 'Download and check everything, inspect the destination, and write nothing.'}),
    force: Flags.boolean({description: 'Replace different content at the destination instead of failing with a conflict.'}),
    from: Flags.string({
      description: `Source: github:owner/repo (default ${DEFAULT_RELEASE_REPO}) or a directory laid out as {version}/{arch}/{file}.`,
      helpValue: 'LOCATION',
    }),
    layout: Flags.string({description: 'Override the layout detected from the destination name.', options: ['public', 'env']}),
    tag: Flags.string({description: 'Release tag, for a github: source. Default: v{version}.'}),
    to: Flags.string({description: 'Destination: gs://, s3:// or a directory. Default: gs:// of the public bucket (E2B_ARTIFACTS_PUBLIC_BUCKET, else e2b-artifact-binaries).', helpValue: 'LOCATION'}),
    version: Flags.string({description: 'Version to publish, as in the object key {version}/{arch}/{file}.', required: true}),
  }

  async run(): Promise<UploadResult> {
    const {args, flags} = await this.parse(Upload)
    this.useOutputFlags(flags)
    const request = resolveUploadRequest({...flags, artifact: args.artifact, dryRun: flags['dry-run']})
    const label = {artifact: request.artifact.name, version: request.version}
    return this.reporter.withProgress(`uploading ${request.artifact.name} ${request.version} from ${request.from.display}`, () =>
      upload(request, {
        onDone: (result) => this.reporter.action(describeDone(label, result)),
        onRetry: (message) => this.reporter.warn(message),
        onVerified: (binary) => this.reporter.action(describeVerified(label, binary)),
        onWarning: (message) => this.reporter.warn(message),
      }),
    )
  }
}
