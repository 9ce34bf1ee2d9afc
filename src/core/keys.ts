import {ARCHES, type Arch, type Artifact} from './catalog.js'
import {IntegrityError} from './errors.js'

/**
 * Object keys, relative to an artifact's root in a location:
 * `{version}/{arch}/{file}`, its sidecar `{…}.sha256`, and the legacy flat
 * `{version}/{file}` of kernels and Firecracker builds from before the arch level.
 */

export const SIDECAR_SUFFIX = '.sha256'

export function binaryKey(artifact: Artifact, version: string, arch: Arch): string {
  return `${version}/${arch}/${artifact.file}`
}

/** The legacy flat key `{version}/{file}` (amd64 builds from before the arch level), for artifacts that have one. */
export function legacyFlatKey(artifact: Artifact, version: string): string | undefined {
  return artifact.legacyFlat ? `${version}/${artifact.file}` : undefined
}

export function sidecarKey(key: string): string {
  return `${key}${SIDECAR_SUFFIX}`
}

export function isSidecarKey(key: string): boolean {
  return key.endsWith(SIDECAR_SUFFIX)
}

/** The key a sidecar key belongs to. */
export function keyOfSidecar(key: string): string {
  return key.slice(0, -SIDECAR_SUFFIX.length)
}

/** Joins a store root with a relative key. */
export function joinKey(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/')
}

/** A key that names one of the artifact's binaries or sidecars. */
export interface ArtifactKey {
  readonly version: string
  /** Absent for the legacy flat layout. */
  readonly arch?: Arch
  readonly sidecar: boolean
  /** The binary's key, also for a sidecar. */
  readonly binaryKey: string
  /** The binary's file name: the artifact's file, or one of its companions. */
  readonly file: string
}

/**
 * Parses a key under an artifact root; undefined for anything that is not the
 * artifact's file, one of its companions, or the sidecar of either.
 */
export function parseArtifactKey(artifact: Artifact, key: string): ArtifactKey | undefined {
  const parts = key.split('/')
  const name = parts.at(-1) ?? ''
  const sidecar = isSidecarKey(name)
  const file = sidecar ? keyOfSidecar(name) : name
  if (file !== artifact.file && !artifact.companions.includes(file)) return undefined
  const binary = sidecar ? keyOfSidecar(key) : key
  if (parts.length === 3 && (ARCHES as readonly string[]).includes(parts[1]!)) return {arch: parts[1] as Arch, binaryKey: binary, file, sidecar, version: parts[0]!}
  if (parts.length === 2) return {binaryKey: binary, file, sidecar, version: parts[0]!}
  return undefined
}

/** The longest key accepted, in UTF-8 bytes (GCS and S3 allow 1024). */
export const MAX_KEY_BYTES = 1024

// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/

/**
 * Why a key from a listing, an API document or SHA256SUMS is unsafe to use, or
 * undefined when it is safe: no empty, `.` or `..` segment, no leading `/`, no
 * backslash, no control character, at most 1024 bytes. The one rule, so that
 * every store and every caller refuses the same names; an unsafe key is never
 * read, written or turned into a path.
 */
export function keyProblem(key: string): string | undefined {
  if (key === '') return 'it is empty'
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`
  if (CONTROL.test(key)) return 'it contains a control character'
  if (key.includes('\\')) return 'it contains a backslash'
  if (key.startsWith('/')) return 'it starts with /'
  for (const segment of key.split('/')) {
    if (segment === '') return 'it has an empty segment (//)'
    if (segment === '.' || segment === '..') return `it has a '${segment}' segment`
  }
  return undefined
}

/** A key made safe to print on one line: control characters and backslashes escaped, and cut short when very long. */
export function displayKey(key: string): string {
  // eslint-disable-next-line no-control-regex -- escaping them is the point
  const escaped = key.replaceAll(/[\\\u0000-\u001F\u007F-\u009F]/g, (char) => (char === '\\' ? '\\\\' : `\\x${char.codePointAt(0)!.toString(16).padStart(2, '0')}`))
  return escaped.length > 200 ? `${escaped.slice(0, 200)}…` : escaped
}

/** The message of every refusal of an unsafe key, in one wording. */
export function unsafeKeyMessage(where: string, key: string, problem: string): string {
  return `${where}/${displayKey(key)}: unsafe object name (${problem}): refused, never read or written`
}

/** Defence in depth for every store's key-to-name mapping: an unsafe key is an IntegrityError (exit 3). */
export function assertSafeKey(key: string, where: string): void {
  const problem = keyProblem(key)
  if (problem !== undefined) throw new IntegrityError(unsafeKeyMessage(where, key, problem))
}
