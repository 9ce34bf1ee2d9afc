import {ARCHES, type Arch, type Artifact, type ArtifactName, CATALOG, artifactNamed, validateVersion} from '../core/catalog.js'
import {UsageError} from '../core/errors.js'
import {findJsonSyntaxError} from './json-error.js'

/**
 * The lock file, `e2b-artifacts.lock`: the digests a consuming repository
 * trusts, one entry per artifact, version, arch and file. A sidecar in the
 * same bucket proves only that a transfer was intact; the lock, reviewed in
 * the consuming repository, is what a tampered bucket cannot forge.
 *
 * JSON, written in one canonical form (keys sorted at every level, entries
 * sorted by artifact, version, arch and file, two-space indent, a trailing
 * newline), so that a re-run changes nothing and the same entries give the
 * same bytes whatever order they were added in. This module only parses and
 * formats: it imports nothing but core, because the no-op `fetch` loads it.
 */

export const LOCK_FILE_NAME = 'e2b-artifacts.lock'

/** The format this build reads and writes; a newer one is refused rather than misread. */
export const LOCK_FORMAT_VERSION = 1

/** Lock files are small; a larger one is not a lock file. */
export const LOCK_MAX_BYTES = 4 * 1024 * 1024

/** What one entry pins. */
export interface LockSlot {
  readonly artifact: ArtifactName
  readonly version: string
  readonly arch: Arch
  /** The artifact's file, or one of its companions. */
  readonly file: string
}

export interface LockEntry extends LockSlot {
  /** Lowercase hex. */
  readonly sha256: string
  readonly size: number
  /**
   * The logical source it was locked from, the same on every machine:
   * `github:owner/repo@tag`, `gs://bucket/key`, `s3://…`, `az://…`, or
   * `file:` and a path relative to the lock file's directory. Never an
   * endpoint, a mirror's URL or a port. For people: nothing trusts it.
   */
  readonly source: string
  /** ISO 8601, UTC. */
  readonly lockedAt: string
}

export interface LockFile {
  /** Sorted by slot; at most one per slot. */
  readonly entries: readonly LockEntry[]
}

const ENTRY_FIELDS = ['arch', 'artifact', 'file', 'lockedAt', 'sha256', 'size', 'source', 'version'] as const
const TOP_FIELDS = ['entries', 'lockfileVersion'] as const
const SHA256 = /^[0-9a-f]{64}$/
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/
// eslint-disable-next-line no-control-regex -- control characters are what a source must not hold
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/
const SOURCE_MAX = 2048

/** `busybox 1.36.1/amd64/busybox`: how messages name an entry. */
export function describeSlot(slot: LockSlot): string {
  return `${slot.artifact} ${slot.version}/${slot.arch}/${slot.file}`
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The one order of entries: by artifact, version, arch and file, by code point (never by locale). */
export function compareSlots(a: LockSlot, b: LockSlot): number {
  return compareText(a.artifact, b.artifact) || compareText(a.version, b.version) || compareText(a.arch, b.arch) || compareText(a.file, b.file)
}

export function sameSlot(a: LockSlot, b: LockSlot): boolean {
  return compareSlots(a, b) === 0
}

export function findEntry(lock: LockFile, slot: LockSlot): LockEntry | undefined {
  return lock.entries.find((entry) => sameSlot(entry, slot))
}

/**
 * The entry for one file of an artifact as a location holds it; a legacy
 * flat build (`{version}/{file}`, no arch level) is amd64.
 */
export function entryForFile(lock: LockFile, artifact: Artifact, version: string, arch: Arch | undefined, file: string): LockEntry | undefined {
  const slotArch = arch ?? (artifact.legacyFlat ? 'amd64' : undefined)
  return slotArch && findEntry(lock, {arch: slotArch, artifact: artifact.name, file, version})
}

/** `lock` with `entries` added, each replacing the entry for its slot if there is one. */
export function withEntries(lock: LockFile, entries: readonly LockEntry[]): LockFile {
  const kept = lock.entries.filter((entry) => !entries.some((added) => sameSlot(added, entry)))
  return {entries: [...kept, ...entries].sort(compareSlots)}
}

/** The canonical text of a lock file. */
export function formatLockFile(lock: LockFile): string {
  const entries = [...lock.entries].sort(compareSlots).map((entry) => Object.fromEntries(ENTRY_FIELDS.map((field) => [field, entry[field]])))
  return `${JSON.stringify({entries, lockfileVersion: LOCK_FORMAT_VERSION}, null, 2)}\n`
}

const NEXT_STEP = 'fix it, or restore the file from version control'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The entry's slot as far as it can be read, for naming a broken entry. */
function partialName(index: number, raw: unknown): string {
  const fields = isRecord(raw) ? [raw.artifact, raw.version, raw.arch, raw.file].map((value) => (typeof value === 'string' ? value : '?')) : []
  return fields.length > 0 ? `entry ${index + 1} (${fields[0]} ${fields.slice(1).join('/')})` : `entry ${index + 1}`
}

/** Checks one entry and returns it typed; the message of a failure says which field is wrong and why. */
function parseEntry(raw: unknown): LockEntry {
  if (!isRecord(raw)) throw new Error('is not an object')
  const unknown = Object.keys(raw).filter((key) => !(ENTRY_FIELDS as readonly string[]).includes(key))
  if (unknown.length > 0) throw new Error(`has an unknown field '${unknown[0]}' (fields: ${ENTRY_FIELDS.join(', ')})`)
  const missing = ENTRY_FIELDS.filter((field) => !(field in raw))
  if (missing.length > 0) throw new Error(`has no '${missing[0]}'`)
  const text = (field: (typeof ENTRY_FIELDS)[number]): string => {
    const value = raw[field]
    if (typeof value !== 'string') throw new Error(`has a '${field}' that is not a string`)
    return value
  }
  const artifactName = text('artifact')
  if (!Object.hasOwn(CATALOG, artifactName)) throw new Error(`has an unknown artifact '${artifactName}' (expected one of ${Object.keys(CATALOG).join(', ')})`)
  const artifact = artifactNamed(artifactName)
  const version = text('version')
  try {
    validateVersion(version)
  } catch (error) {
    throw new Error(`has an unsafe version: ${(error as Error).message}`)
  }
  const arch = text('arch')
  if (!(ARCHES as readonly string[]).includes(arch)) throw new Error(`has an unknown arch '${arch}' (expected ${ARCHES.join(' or ')})`)
  const file = text('file')
  const files = [artifact.file, ...artifact.companions]
  if (!files.includes(file)) throw new Error(`names a file '${file}' that ${artifact.name} does not have (expected ${files.join(' or ')})`)
  const sha256 = text('sha256')
  if (!SHA256.test(sha256)) throw new Error(`has a 'sha256' that is not a sha256 digest (64 lowercase hex digits): '${sha256.slice(0, 80)}'`)
  const size = raw.size
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new Error("has a 'size' that is not a whole number of bytes")
  const source = text('source')
  if (source === '' || source.length > SOURCE_MAX || CONTROL.test(source)) throw new Error(`has a 'source' that is not 1-${SOURCE_MAX} printable characters`)
  const lockedAt = text('lockedAt')
  if (!TIMESTAMP.test(lockedAt) || Number.isNaN(Date.parse(lockedAt))) throw new Error("has a 'lockedAt' that is not an ISO 8601 UTC time, as in 2026-04-01T12:00:00.000Z")
  return {arch: arch as Arch, artifact: artifact.name, file, lockedAt, sha256, size, source, version}
}

/**
 * Parses a lock file's text. Every problem is a usage error (exit 2) that
 * names the file (`where`) and the line (JSON syntax) or the entry.
 */
export function parseLockFile(text: string, where: string): LockFile {
  const body = text.replace(/^\uFEFF/, '')
  let document: unknown
  try {
    document = JSON.parse(body)
  } catch {
    const syntax = findJsonSyntaxError(body)
    const line = syntax?.line ?? 1
    throw new UsageError(`${where}:${line}: invalid JSON: ${syntax?.problem ?? 'not a JSON document'}; ${NEXT_STEP}`)
  }
  if (!isRecord(document) || !Array.isArray(document.entries)) {
    throw new UsageError(`${where}: not an e2b-artifacts lock file (expected {"entries": [...], "lockfileVersion": ${LOCK_FORMAT_VERSION}}); ${NEXT_STEP}`)
  }
  const unknown = Object.keys(document).filter((key) => !(TOP_FIELDS as readonly string[]).includes(key))
  if (unknown.length > 0) throw new UsageError(`${where}: unknown field '${unknown[0]}' (fields: ${TOP_FIELDS.join(', ')}); ${NEXT_STEP}`)
  if (document.lockfileVersion !== LOCK_FORMAT_VERSION) {
    throw new UsageError(`${where}: lockfileVersion ${JSON.stringify(document.lockfileVersion)} is not one this e2b-artifacts reads (${LOCK_FORMAT_VERSION}): upgrade e2b-artifacts, or ${NEXT_STEP}`)
  }
  const entries: LockEntry[] = []
  for (const [index, raw] of document.entries.entries()) {
    let entry: LockEntry
    try {
      entry = parseEntry(raw)
    } catch (error) {
      throw new UsageError(`${where}: ${partialName(index, raw)} ${(error as Error).message}; ${NEXT_STEP}`)
    }
    const twin = entries.find((earlier) => sameSlot(earlier, entry))
    if (twin) throw new UsageError(`${where}: ${partialName(index, raw)} pins ${describeSlot(entry)} a second time; keep one entry per slot; ${NEXT_STEP}`)
    entries.push(entry)
  }
  return {entries: entries.sort(compareSlots)}
}
