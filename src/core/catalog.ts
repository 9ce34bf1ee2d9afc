import {UsageError} from './errors.js'

export type ArtifactName = 'busybox' | 'kernel' | 'firecracker'
export type Arch = 'amd64' | 'arm64'

export interface Artifact {
  readonly name: ArtifactName
  /** File name at `{version}/{arch}/{file}`. */
  readonly file: string
  /** Directory under the public bucket, without a trailing slash. */
  readonly publicPrefix: string
  /** Env buckets are named `{prefix}{envSuffix}`. */
  readonly envSuffix: string
  readonly sidecarRequired: boolean
  /** Whether the file is an ELF executable whose machine field can be checked. */
  readonly elf: boolean
  readonly defaultVersion?: string
  /**
   * Files upstream publishes next to the main one (debug builds and symbols):
   * copied, listed and verified like it, never reported as unexpected.
   */
  readonly companions: readonly string[]
  /**
   * Builds published before the arch level existed sit at `{version}/{file}`
   * and are amd64: fetch of amd64 falls back to that key (as upstream's
   * build tooling does), and verify reads it as amd64.
   */
  readonly legacyFlat: boolean
}

/** The one place the default busybox version is defined. */
export const DEFAULT_BUSYBOX_VERSION = '1.36.1'

export const CATALOG: Readonly<Record<ArtifactName, Artifact>> = {
  busybox: {
    name: 'busybox',
    file: 'busybox',
    publicPrefix: 'busybox',
    envSuffix: 'fc-busybox',
    sidecarRequired: true,
    elf: true,
    defaultVersion: DEFAULT_BUSYBOX_VERSION,
    companions: [],
    legacyFlat: false,
  },
  kernel: {
    name: 'kernel',
    file: 'vmlinux.bin',
    publicPrefix: 'kernels',
    envSuffix: 'fc-kernels',
    sidecarRequired: false,
    elf: false,
    companions: ['vmlinux.debug'],
    legacyFlat: true,
  },
  firecracker: {
    name: 'firecracker',
    file: 'firecracker',
    publicPrefix: 'firecrackers',
    envSuffix: 'fc-versions',
    sidecarRequired: false,
    elf: true,
    companions: ['firecracker-debug', 'firecracker-debug.debug'],
    legacyFlat: true,
  },
}

export const ARTIFACT_NAMES = Object.keys(CATALOG) as ArtifactName[]
export const ARCHES: readonly Arch[] = ['amd64', 'arm64']

const ARCH_ALIASES: Readonly<Record<string, Arch>> = {
  amd64: 'amd64',
  x86_64: 'amd64',
  x64: 'amd64',
  arm64: 'arm64',
  aarch64: 'arm64',
}

const VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/

export function artifactNamed(name: string): Artifact {
  if (Object.hasOwn(CATALOG, name)) return CATALOG[name as ArtifactName]
  throw new UsageError(`unknown artifact '${name}': expected one of ${ARTIFACT_NAMES.join(', ')}`)
}

export function normalizeArch(input: string): Arch {
  const arch = Object.hasOwn(ARCH_ALIASES, input) ? ARCH_ALIASES[input] : undefined
  if (arch) return arch
  throw new UsageError(`unknown arch '${input}': expected amd64 or arm64 (aliases x86_64, aarch64)`)
}

export function validateVersion(version: string): string {
  if (VERSION_PATTERN.test(version) && !version.includes('..')) return version
  throw new UsageError(
    `invalid version '${version}': use 1-64 characters of letters, digits, '.', '_', '+' or '-', starting with a letter or digit`,
  )
}

/** A repeatable --arch (each value may list several, comma-separated): distinct, in catalog order; both when none. */
export function normalizeArches(input: readonly string[] | undefined): Arch[] {
  if (input === undefined || input.length === 0) return [...ARCHES]
  const chosen = new Set(input.flatMap((value) => value.split(',')).map((value) => normalizeArch(value.trim())))
  return ARCHES.filter((arch) => chosen.has(arch))
}

/** The version to use: the one given, or the artifact's catalog default. */
export function resolveVersion(artifact: Artifact, version: string | undefined): string {
  if (version !== undefined) return validateVersion(version)
  if (artifact.defaultVersion) return artifact.defaultVersion
  throw new UsageError(`${artifact.name} has no default version: pass --version`)
}

export function hostArch(): Arch {
  return normalizeArch(process.arch)
}
