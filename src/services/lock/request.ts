import {type Arch, type Artifact, artifactNamed, normalizeArches, validateVersion} from '../../core/catalog.js'
import {DEFAULT_RELEASE_REPO, publicBucketView} from '../../core/config.js'
import {UsageError} from '../../core/errors.js'
import {type Layout, type Location, gcsPublicView, parseLayout, parseLocation} from '../../core/location.js'
import {type LockFlags, checkLockFlags} from '../shared/lock-file-io.js'
import {releaseTag} from '../shared/release-source.js'

/** `lock`'s flags and argument, as given. */
export interface LockInput {
  readonly artifact?: string
  readonly version?: string
  readonly arch?: readonly string[]
  readonly from?: string
  readonly tag?: string
  readonly layout?: string
  readonly lock?: string
  readonly update?: boolean
  readonly check?: boolean
}

export interface LockRequest {
  readonly artifact: Artifact
  readonly version: string
  /** Distinct, in catalog order. */
  readonly arches: readonly Arch[]
  readonly from: Location
  /** The release tag, for a github: source. */
  readonly tag?: string
  readonly layout?: Layout
  /** Re-pin entries whose digest changed (after review). */
  readonly update: boolean
  /** Compare the lock with the sources and write nothing (CI). */
  readonly check: boolean
  readonly lockFlags: LockFlags
}

/**
 * The source must have a name that is the same on every machine, since the
 * lock records it: a GitHub release, a bucket, the anonymous view of a public
 * GCS bucket (recorded as gs://), or a directory. Another https host is a
 * mirror, whose URL says nothing about what it mirrors.
 */
function parseSource(input: string | undefined, artifact: Artifact): Location {
  const from = parseLocation(input ?? (artifact.name === 'busybox' ? DEFAULT_RELEASE_REPO : publicBucketView()))
  if ((from.scheme === 'http' || from.scheme === 'https') && !gcsPublicView(from)) {
    throw new UsageError(
      `--from ${from.display}: a lock records where each digest came from, by a name that is the same on every machine, and a mirror's URL is not one: lock from github:owner/repo, gs://, s3://, az://, https://storage.googleapis.com/BUCKET or a directory`,
    )
  }
  return from
}

/** Validates every input and fills in the documented defaults. Pure: no I/O. */
export function resolveLockRequest(input: LockInput): LockRequest {
  const artifact = artifactNamed(input.artifact ?? 'busybox')
  if (input.version === undefined) throw new UsageError('pass --version: lock never guesses which build to pin')
  const version = validateVersion(input.version)
  if (input.update && input.check) throw new UsageError('--update and --check contradict each other (--check writes nothing): drop one')
  const from = parseSource(input.from, artifact)
  if (input.tag !== undefined && from.scheme !== 'github') throw new UsageError('--tag applies only to a github: source')
  if (input.layout !== undefined && from.scheme === 'github') throw new UsageError('--layout applies only to a bucket or directory source, not github:')
  const lockFlags: LockFlags = {lock: input.lock}
  checkLockFlags(lockFlags)
  return {
    arches: normalizeArches(input.arch),
    artifact,
    check: input.check ?? false,
    from,
    layout: parseLayout(input.layout),
    lockFlags,
    tag: from.scheme === 'github' ? releaseTag(input.tag, version) : undefined,
    update: input.update ?? false,
    version,
  }
}
