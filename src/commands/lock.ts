import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {describeLockSummary, describeLockedFile} from '../cli/render-lock.js'
import {ARCHES, ARTIFACT_NAMES} from '../core/catalog.js'
import {DEFAULT_RELEASE_REPO} from '../core/config.js'
import {type LockResult, lockArtifact} from '../services/lock/lock.js'
import {resolveLockRequest} from '../services/lock/request.js'

export default class Lock extends BaseCommand {
  static override summary = 'Pin the digests of a verified artifact in e2b-artifacts.lock, so that fetch refuses anything else.'

  static override description = `A sidecar stored next to its binary proves only that a transfer was intact: whoever can write to the bucket can replace both. The lock file, committed and reviewed in the repository that uses the artifacts, pins the digest of every artifact, version, arch and file, and fetch (and, when named with --lock, verify and copy-public-builds) refuses anything that disagrees with it.
Downloads each file once and records it only when every independent source agrees: for a GitHub release, SHA256SUMS and the API's asset digests; for a bucket, the sidecar and the service's own checksums. The artifact's own file must also pass upload's checks (ELF machine, static linking, the version string; busybox is run in a sandbox where one works). Companion files (vmlinux.debug, firecracker-debug, ...) that the source holds are pinned too, by digest.
The lock file is --lock PATH, else E2B_ARTIFACTS_LOCK, else e2b-artifacts.lock in the working directory or the nearest one above it, else a new e2b-artifacts.lock in the working directory. Entries are kept sorted, and an entry whose digest is unchanged is kept as it was, so a re-run leaves the file byte-identical. An entry whose digest changed is an integrity error (exit 3) naming both digests, unless --update. --check writes nothing, and exits 3 when the lock lacks an entry or disagrees with the source. Any failure writes nothing.`

  static override examples = [
    '<%= config.bin %> lock busybox --version 1.36.1',
    '<%= config.bin %> lock kernel --version vmlinux-6.1.158 --arch amd64',
    '<%= config.bin %> lock firecracker --version v1.12.1_210cbac --from gs://e2b-artifact-binaries',
    '<%= config.bin %> lock busybox --version 1.36.1 --check',
  ]

  static override args = {
    artifact: Args.string({description: `Artifact to lock: ${ARTIFACT_NAMES.join(', ')}.`, required: true}),
  }

  static override flags = {
    arch: Flags.string({description: `Architecture, repeatable: ${ARCHES.join(', ')} (aliases x86_64, aarch64). Default: both.`, multiple: true}),
    check: Flags.boolean({description: 'Write nothing; exit 3 when the lock file lacks an entry or disagrees with the source (for CI).'}),
    from: Flags.string({
      description: `Source: github:owner/repo (default for busybox: ${DEFAULT_RELEASE_REPO}), gs://, s3://, az://, https://storage.googleapis.com/BUCKET or a directory with the layout fetch reads. Default for kernel and firecracker: the public bucket (E2B_ARTIFACTS_PUBLIC_BUCKET, else e2b-artifact-binaries), read anonymously.`,
      helpValue: 'LOCATION',
    }),
    layout: Flags.string({description: 'Override the layout detected from the source name.', options: ['public', 'env']}),
    lock: Flags.string({
      description: 'The lock file. Default: E2B_ARTIFACTS_LOCK, else e2b-artifacts.lock in the working directory or the nearest one above it, else a new one in the working directory.',
      helpValue: 'PATH',
    }),
    tag: Flags.string({description: 'Release tag, for a github: source. Default: v{version}.'}),
    update: Flags.boolean({description: 'Re-pin entries whose digest changed at the source (review the new build first).'}),
    version: Flags.string({description: 'Version to lock, as in the object key {version}/{arch}/{file}.', required: true}),
  }

  async run(): Promise<LockResult> {
    const {args, flags} = await this.parse(Lock)
    this.useOutputFlags(flags)
    const request = resolveLockRequest({...flags, artifact: args.artifact})
    const result = await this.reporter.withProgress(`locking ${request.artifact.name} ${request.version} from ${request.from.display}`, () =>
      lockArtifact(request, {
        onFile: (file, lockFile) => this.reporter.action(describeLockedFile(file, lockFile)),
        onRetry: (message) => this.reporter.warn(message),
        onWarning: (message) => this.reporter.warn(message),
      }),
    )
    this.reporter.action(describeLockSummary(result))
    return result
  }
}
