import path from 'node:path'

import {type Arch, type Artifact, artifactNamed, binaryKey, hostArch, normalizeArch, resolveVersion} from './catalog.js'
import {type Layout, type Location, parseLocation} from './location.js'
import {normalizeDigest} from '../integrity/sidecar.js'
import {UsageError} from './errors.js'

export const DEFAULT_PUBLIC_URL = 'https://storage.googleapis.com/e2b-prod-public-builds'

/** The public bucket to read from when --from is not given. */
export function defaultPublicUrl(): string {
  return process.env.E2B_ARTIFACTS_PUBLIC_URL || DEFAULT_PUBLIC_URL
}

export interface FetchInput {
  readonly artifact?: string
  readonly version?: string
  readonly arch?: string
  readonly from?: string
  readonly out?: string
  readonly sha256?: string
  readonly force?: boolean
  readonly layout?: string
}

export interface FetchRequest {
  readonly artifact: Artifact
  readonly version: string
  readonly arch: Arch
  readonly from: Location
  /** Absolute destination path. */
  readonly out: string
  /** The destination as the user gave it (or the default), for messages. */
  readonly outDisplay: string
  readonly pin?: string
  readonly force: boolean
  readonly layout?: Layout
}

export function parseLayout(input: string | undefined): Layout | undefined {
  if (input === undefined) return undefined
  if (input === 'public' || input === 'env') return input
  throw new UsageError(`invalid --layout '${input}': expected public or env`)
}

/** Validates every input and fills in the documented defaults. Pure: no I/O. */
export function resolveFetchRequest(input: FetchInput): FetchRequest {
  const artifact = artifactNamed(input.artifact ?? 'busybox')
  const version = resolveVersion(artifact, input.version)
  const arch = input.arch === undefined ? hostArch() : normalizeArch(input.arch)
  const from = parseLocation(input.from ?? defaultPublicUrl())
  if (from.scheme === 'github') throw new UsageError('fetch reads from a bucket or directory, not github: (use upload to publish a release)')
  if (input.out !== undefined && input.out.trim() === '') throw new UsageError('--out must not be empty')
  const outDisplay = input.out ?? path.join(`.${artifact.name}`, ...binaryKey(artifact, version, arch).split('/'))
  if (outDisplay.endsWith('/') || outDisplay.endsWith(path.sep)) throw new UsageError(`--out '${outDisplay}' names a directory: give the file path`)
  const pin = input.sha256 === undefined ? undefined : pinnedDigest(input.sha256)
  return {
    arch,
    artifact,
    force: input.force ?? false,
    from,
    layout: parseLayout(input.layout),
    out: path.resolve(outDisplay),
    outDisplay,
    pin,
    version,
  }
}

function pinnedDigest(value: string): string {
  try {
    return normalizeDigest(value, '--sha256')
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
