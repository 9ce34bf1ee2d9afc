import path from 'node:path'

import {type Arch, type Artifact, artifactNamed, hostArch, normalizeArch, resolveVersion} from '../../core/catalog.js'
import {defaultFetchSource} from '../../core/config.js'
import {UsageError} from '../../core/errors.js'
import {binaryKey} from '../../core/keys.js'
import {type Layout, type Location, parseLayout, parseLocation} from '../../core/location.js'
import {parsePin} from '../../integrity/sidecar.js'

/** `fetch`'s flags and argument, as given. */
export interface FetchInput {
  readonly artifact?: string
  readonly version?: string
  readonly arch?: string
  readonly from?: string
  readonly out?: string
  readonly sha256?: string
  readonly force?: boolean
  readonly layout?: string
  readonly 'allow-unverified'?: boolean
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
  /** Install an artifact that nothing can verify (no sidecar, no pin, no service checksum), with a warning. */
  readonly allowUnverified: boolean
}

/** Validates every input and fills in the documented defaults. Pure: no I/O. */
export function resolveFetchRequest(input: FetchInput): FetchRequest {
  const artifact = artifactNamed(input.artifact ?? 'busybox')
  const version = resolveVersion(artifact, input.version)
  const arch = input.arch === undefined ? hostArch() : normalizeArch(input.arch)
  const from = parseLocation(input.from ?? defaultFetchSource())
  if (from.scheme === 'github') throw new UsageError('fetch reads from a bucket or directory, not github: (use upload to publish a release)')
  if (input.out !== undefined && input.out.trim() === '') throw new UsageError('--out must not be empty')
  const outDisplay = input.out ?? path.join(`.${artifact.name}`, ...binaryKey(artifact, version, arch).split('/'))
  if (outDisplay.endsWith('/') || outDisplay.endsWith(path.sep)) throw new UsageError(`--out '${outDisplay}' names a directory: give the file path`)
  return {
    allowUnverified: input['allow-unverified'] ?? false,
    arch,
    artifact,
    force: input.force ?? false,
    from,
    layout: parseLayout(input.layout),
    out: path.resolve(outDisplay),
    outDisplay,
    pin: input.sha256 === undefined ? undefined : parsePin(input.sha256, '--sha256'),
    version,
  }
}
