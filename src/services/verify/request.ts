import {type Arch, type Artifact, artifactNamed, normalizeArch, validateVersion} from '../../core/catalog.js'
import {UsageError} from '../../core/errors.js'
import {type Layout, type Location, parseLayout, parseLocation} from '../../core/location.js'
import {parsePin} from '../../integrity/sidecar.js'
import {type LockPath, chooseLockPath} from '../shared/lock-file-io.js'

/** `verify`'s flags and argument, as given. */
export interface VerifyInput {
  readonly artifact?: string
  readonly file?: string
  readonly at?: string
  readonly against?: readonly string[]
  readonly arch?: string
  readonly version?: string
  readonly layout?: string
  readonly sha256?: string
  readonly tag?: string
  readonly deep?: boolean
  readonly 'metadata-only'?: boolean
  readonly concurrency?: number
  readonly lock?: string
}

interface Scope {
  readonly artifact: Artifact
  readonly arch?: Arch
  readonly version?: string
  readonly layout?: Layout
  readonly concurrency: number
  /** `--lock PATH` or E2B_ARTIFACTS_LOCK: compare what each location holds with the lock (never looked for: deploy pipelines run verify inside repositories). */
  readonly lock?: LockPath
}

export type VerifyRequest =
  | (Scope & {readonly mode: 'file'; readonly file: string; readonly pin?: string})
  | (Scope & {
      readonly mode: 'at'
      readonly location: Location
      /** Rehash every binary, whatever the service's checksums say. */
      readonly deep: boolean
      /** Download no binary: what metadata cannot vouch for is reported unverified (exit 0), not rehashed. */
      readonly metadataOnly: boolean
    })
  | (Scope & {readonly mode: 'against'; readonly locations: readonly Location[]; readonly tag?: string})

/** Validates every input, choosing exactly one mode. Pure: no I/O. */
export function resolveVerifyRequest(input: VerifyInput): VerifyRequest {
  const modes = [input.file, input.at, input.against].filter((mode) => mode !== undefined)
  if (modes.length !== 1) throw new UsageError('choose one of --file, --at or --against')
  const concurrency = input.concurrency ?? 8
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`invalid --concurrency ${concurrency}: use a whole number of 1 or more`)
  if (input.lock !== undefined && input.file !== undefined) throw new UsageError('--lock applies to --at and --against; fetch checks a local file against the lock')
  const scope: Scope = {
    arch: input.arch === undefined ? undefined : normalizeArch(input.arch),
    artifact: artifactNamed(input.artifact ?? 'busybox'),
    concurrency,
    layout: parseLayout(input.layout),
    lock: input.file === undefined ? chooseLockPath({lock: input.lock}, {discover: false}) : undefined,
    version: input.version === undefined ? undefined : validateVersion(input.version),
  }
  if (input.file !== undefined) return {...scope, file: input.file, mode: 'file', pin: input.sha256 === undefined ? undefined : parsePin(input.sha256, '--sha256')}
  if (input.at !== undefined) {
    if (input.deep && input['metadata-only']) throw new UsageError('choose one of --deep (rehash every binary) or --metadata-only (download none)')
    return {...scope, deep: input.deep ?? false, location: parseLocation(input.at), metadataOnly: input['metadata-only'] ?? false, mode: 'at'}
  }
  return {...scope, locations: (input.against ?? []).map((location) => parseLocation(location)), mode: 'against', tag: input.tag}
}

/** What a spinner says while the request runs. */
export function describeVerifyRequest(request: VerifyRequest): string {
  switch (request.mode) {
    case 'file': {
      return `checking ${request.file}`
    }
    case 'at': {
      return `auditing ${request.location.display}`
    }
    case 'against': {
      return `comparing ${request.locations.length} locations`
    }
  }
}
