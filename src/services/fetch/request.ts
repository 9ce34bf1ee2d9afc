import path from 'node:path'

import {type Arch, type Artifact, artifactNamed, hostArch, normalizeArch, resolveVersion} from '../../core/catalog.js'
import {defaultFetchSource} from '../../core/config.js'
import {UsageError} from '../../core/errors.js'
import {SIDECAR_SUFFIX, binaryKey} from '../../core/keys.js'
import {type Layout, type Location, parseLayout, parseLocation} from '../../core/location.js'
import {parsePin} from '../../integrity/sidecar.js'
import {type LockFlags, checkLockFlags} from '../shared/lock-file-io.js'

/** The longest file name most file systems take (Linux NAME_MAX). */
const NAME_MAX = 255

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
  readonly lock?: string
  readonly 'no-lock'?: boolean
  readonly locked?: boolean
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
  /** Which lock file pins the digest: `--lock`, `--no-lock` (else E2B_ARTIFACTS_LOCK, else found from the working directory up). */
  readonly lockFlags: LockFlags
  /** `--locked`: a request the lock does not pin is refused (exit 3), not just warned about. */
  readonly locked: boolean
  /** The lock entry's digest for this request, filled in by fetchArtifact once the lock is read. */
  readonly lockPin?: LockPin
}

/** What a lock entry pins for a fetch. */
export interface LockPin {
  readonly sha256: string
  readonly size: number
  /** The lock file, for messages. */
  readonly where: string
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
  const nameBytes = Buffer.byteLength(path.basename(outDisplay))
  if (nameBytes + SIDECAR_SUFFIX.length > NAME_MAX) {
    throw new UsageError(`--out: the file name is ${nameBytes} bytes, but its ${SIDECAR_SUFFIX} sidecar must fit in ${NAME_MAX}: use a name of at most ${NAME_MAX - SIDECAR_SUFFIX.length} bytes`)
  }
  const lockFlags: LockFlags = {lock: input.lock, noLock: input['no-lock'] ?? false}
  checkLockFlags(lockFlags)
  if (input.locked && lockFlags.noLock) throw new UsageError('--locked needs a lock file, so it cannot go with --no-lock: drop one')
  return {
    allowUnverified: input['allow-unverified'] ?? false,
    arch,
    artifact,
    force: input.force ?? false,
    from,
    layout: parseLayout(input.layout),
    lockFlags,
    locked: input.locked ?? false,
    out: path.resolve(outDisplay),
    outDisplay,
    pin: input.sha256 === undefined ? undefined : parsePin(input.sha256, '--sha256'),
    version,
  }
}
