import {type Arch, type Artifact, artifactNamed, normalizeArches, validateVersion} from '../../core/catalog.js'
import {DEFAULT_RELEASE_REPO, defaultUploadDestination} from '../../core/config.js'
import {UsageError} from '../../core/errors.js'
import {type FileLocation, type GithubLocation, type Layout, type Location, parseLayout, parseLocation} from '../../core/location.js'
import {releaseTag} from '../shared/release-source.js'

export interface UploadInput {
  readonly artifact?: string
  readonly version?: string
  readonly arch?: readonly string[]
  readonly from?: string
  readonly tag?: string
  readonly to?: string
  readonly force?: boolean
  readonly dryRun?: boolean
  readonly layout?: string
}

export interface UploadRequest {
  readonly artifact: Artifact
  readonly version: string
  /** Distinct, in catalog order. */
  readonly arches: readonly Arch[]
  readonly from: FileLocation | GithubLocation
  /** The release tag, for a github: source. */
  readonly tag: string
  readonly to: Location
  readonly force: boolean
  readonly dryRun: boolean
  readonly layout?: Layout
}

function parseSource(input: string | undefined, artifact: Artifact): FileLocation | GithubLocation {
  if (input === undefined && artifact.name !== 'busybox') {
    throw new UsageError(`pass --from for ${artifact.name}: the default source ${DEFAULT_RELEASE_REPO} only builds busybox`)
  }
  const from = parseLocation(input ?? DEFAULT_RELEASE_REPO)
  if (from.scheme === 'github' || from.scheme === 'file') return from
  throw new UsageError(`--from ${from.display}: upload reads from github:owner/repo or a local directory laid out as {version}/{arch}/${artifact.file}`)
}

function parseDestination(input: string | undefined): Location {
  const to = parseLocation(input ?? defaultUploadDestination())
  if (to.scheme === 'github' || to.scheme === 'http' || to.scheme === 'https') {
    throw new UsageError(`--to ${to.display} is read-only: publish to gs://, s3://, az:// or a directory`)
  }
  return to
}

/** Validates every input and fills in the documented defaults. Pure: no I/O. */
export function resolveUploadRequest(input: UploadInput): UploadRequest {
  const artifact = artifactNamed(input.artifact ?? 'busybox')
  if (input.version === undefined) throw new UsageError('pass --version: upload never guesses which release to publish')
  const version = validateVersion(input.version)
  const from = parseSource(input.from, artifact)
  if (input.tag !== undefined && from.scheme !== 'github') throw new UsageError('--tag applies only to a github: source')
  const tag = releaseTag(input.tag, version)
  return {
    arches: normalizeArches(input.arch),
    artifact,
    dryRun: input.dryRun ?? false,
    force: input.force ?? false,
    from,
    layout: parseLayout(input.layout),
    tag,
    to: parseDestination(input.to),
    version,
  }
}
