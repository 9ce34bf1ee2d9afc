import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {runFetch} from '../cli/run-fetch.js'
import {ARCHES, ARTIFACT_NAMES, DEFAULT_BUSYBOX_VERSION} from '../core/catalog.js'
import type {FetchResult} from '../services/fetch/result.js'

export default class Fetch extends BaseCommand {
  static override summary = 'Download a verified artifact, unless the local copy is already up to date.'

  static override description = `Checks PATH against PATH.sha256 first and exits at once, with no network access, when they agree.
Otherwise downloads the binary and its sidecar concurrently into temp files next to PATH, verifies the sha256, the size and the ELF machine, and renames both into place. An existing good file is never replaced by a bad one.
When a lock file (e2b-artifacts.lock, see the lock command) has an entry for the artifact, version and arch, that entry is a pin, as --sha256 is: a sidecar or a download that disagrees with it is refused (exit 3), and the up-to-date check compares the local file with it. A lock without an entry for the request is a warning, or with --locked an error (exit 3).`

  static override examples = [
    '<%= config.bin %> fetch',
    '<%= config.bin %> fetch busybox --version 1.36.1 --arch arm64',
    '<%= config.bin %> fetch --from file:///srv/public-builds --out build/busybox',
    '<%= config.bin %> fetch kernel --version 6.1.102 --from gs://my-env-fc-kernels',
  ]

  static override args = {
    artifact: Args.string({default: 'busybox', description: `Artifact to fetch: ${ARTIFACT_NAMES.join(', ')}.`}),
  }

  static override flags = {
    'allow-unverified': Flags.boolean({
      description: "Install an artifact that nothing can verify (no sidecar, no --sha256, no checksum from the service), with a warning. Without it, that is refused (exit 3).",
    }),
    arch: Flags.string({description: `Architecture: ${ARCHES.join(' or ')} (aliases x86_64, aarch64). Default: this host's.`}),
    force: Flags.boolean({description: 'Download even if the local copy is up to date.'}),
    from: Flags.string({
      description: 'Where to download from: https://host/bucket[/prefix], gs://, s3://, file:// or a directory. Default: E2B_ARTIFACTS_PUBLIC_URL, else https://storage.googleapis.com/ of the public bucket (E2B_ARTIFACTS_PUBLIC_BUCKET, else e2b-artifact-binaries).',
      helpValue: 'LOCATION',
    }),
    layout: Flags.string({description: 'Override the layout detected from the location name.', options: ['public', 'env']}),
    lock: Flags.string({
      description: 'The lock file whose entry pins the digest. Default: E2B_ARTIFACTS_LOCK, else e2b-artifacts.lock in the working directory or the nearest one above it.',
      helpValue: 'PATH',
    }),
    locked: Flags.boolean({description: 'Refuse (exit 3) to fetch what the lock file does not pin, instead of warning: for CI.'}),
    'no-lock': Flags.boolean({description: 'Ignore any lock file.'}),
    out: Flags.string({description: 'Destination file. Default: .{artifact}/{version}/{arch}/{file}.', helpValue: 'PATH'}),
    sha256: Flags.string({description: 'Pinned sha256 digest; the sidecar must agree with it.', helpValue: 'HEX'}),
    version: Flags.string({description: `Version to fetch. Default for busybox: ${DEFAULT_BUSYBOX_VERSION}.`}),
  }

  async run(): Promise<FetchResult> {
    const {args, flags} = await this.parse(Fetch)
    this.useOutputFlags(flags)
    return runFetch({...flags, artifact: args.artifact}, this.reporter)
  }
}
