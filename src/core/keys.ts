import {ARCHES, type Arch, type Artifact} from './catalog.js'

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
