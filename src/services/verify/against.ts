import {ARCHES, type Arch, type Artifact} from '../../core/catalog.js'
import {mapLimit} from '../../core/concurrency.js'
import {UsageError} from '../../core/errors.js'
import {binaryKey, displayKey, legacyFlatKey} from '../../core/keys.js'
import {type Location, artifactRoot, isListable} from '../../core/location.js'
import {expectedSha256, md5FromEtag} from '../../integrity/content-identity.js'
import {openStore} from '../../stores/open-store.js'
import {hashObject} from '../../stores/ops/hash-object.js'
import {listAll} from '../../stores/ops/list-all.js'
import {readSidecar} from '../../stores/ops/read-sidecar.js'
import type {ObjectInfo, Store} from '../../stores/store.js'
import {type Finding, type VerifyReport, buildReport} from './findings.js'
import {entryForFile} from '../../integrity/lock-file.js'
import {type VerifyLock, lockFinding, notLocked} from './lock-check.js'
import type {VerifyRequest} from './request.js'
import {groupObjects} from './slots.js'

export type CompareRequest = Extract<VerifyRequest, {mode: 'against'}>

/**
 * What one location holds for one version and arch: the digests it records
 * (its sidecar, sha256 metadata, the service's md5 and crc32c, a plain S3
 * ETag) and, for a bucket or directory, a way to hash the content when no
 * recorded digest is shared with the other locations.
 */
interface Held {
  readonly sha256?: string
  readonly md5?: string
  readonly crc32c?: string
  /** The MD5 a plain S3 ETag stands for: it can confirm an md5, never refute one (SSE-KMS ETags are not MD5s). */
  readonly etagMd5?: string
  readonly size?: number
  /** Where, for messages. */
  readonly where: string
  /** Reads and hashes the content, at most once. */
  readonly rehash?: () => Promise<string>
}

type Verdict = {readonly same: true; readonly by: string} | {readonly same: false; readonly by: string} | undefined

const slotName = (version: string, arch: Arch): string => `${version}/${arch}`

/** Same, different, or (undefined) nothing recorded on both sides says. A plain ETag can confirm an md5, never refute it. */
function compareRecorded(a: Held, b: Held): Verdict {
  const agreeing: string[] = []
  for (const digest of ['sha256', 'crc32c', 'md5'] as const) {
    const left = a[digest]
    const right = b[digest]
    if (left === undefined || right === undefined) continue
    if (left !== right) return {by: digest, same: false}
    agreeing.push(digest)
  }
  if (a.size !== undefined && b.size !== undefined && a.size !== b.size) return {by: 'size', same: false}
  if (agreeing.length > 0) return {by: agreeing.join(', '), same: true}
  const left = a.md5 ?? a.etagMd5
  const right = b.md5 ?? b.etagMd5
  return left !== undefined && left === right ? {by: 'md5 (ETag)', same: true} : undefined
}

/** Compares by recorded digests, and when they share none, by the sha256 of the content, read where it is not recorded. */
async function compareHeld(a: Held, b: Held): Promise<{same: boolean; by: string}> {
  const recorded = compareRecorded(a, b)
  if (recorded) return recorded
  const [left, right] = await Promise.all([a.sha256 ?? a.rehash?.(), b.sha256 ?? b.rehash?.()])
  if (left === undefined || right === undefined) return {by: 'no shared digest', same: false}
  return {by: 'sha256 (rehashed)', same: left === right}
}

function shortDigest(held: Held): string {
  if (held.sha256) return `${held.sha256.slice(0, 12)}…`
  if (held.md5) return `md5:${held.md5}`
  if (held.crc32c) return `crc32c:${held.crc32c}`
  return 'unknown'
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined
  return () => (promise ??= fn())
}

/**
 * The digests a location records for the binary at `key`: its sidecar (the
 * digest published with it), its sha256 metadata, and the service's own
 * checksums, which is all a kernel without a sidecar has. The stored size and
 * digests of a gzip-encoded object describe compressed bytes: not compared.
 */
async function heldAt(store: Store, info: ObjectInfo, artifact: Artifact): Promise<Held> {
  const sidecar = await readSidecar(store, info.key, artifact.file, {optional: true})
  const where = `${store.display}/${info.key}`
  const etagMd5 = md5FromEtag(info.etag)
  const service = info.encoding ? {} : {...(info.md5 ? {md5: info.md5} : {}), ...(etagMd5 ? {etagMd5} : {}), ...(info.crc32c ? {crc32c: info.crc32c} : {}), size: info.size}
  const sha256 = sidecar?.sha256 ?? (info.encoding ? undefined : expectedSha256(info))
  return {...service, ...(sha256 ? {sha256} : {}), rehash: once(async () => (await hashObject(store, info.key)).sha256), where}
}

/** The binary's key for a version and arch: `{version}/{arch}/{file}`, or for amd64 the legacy flat key when only that exists. */
async function statSlot(store: Store, artifact: Artifact, version: string, arch: Arch): Promise<ObjectInfo | undefined> {
  const info = await store.stat(binaryKey(artifact, version, arch))
  const flat = arch === 'amd64' ? legacyFlatKey(artifact, version) : undefined
  return info ?? (flat ? store.stat(flat) : undefined)
}

/**
 * The main binaries a location lists, by slot; legacy flat ones count as
 * amd64 unless an amd64 one sits beside them. Names the listing refused
 * (unsafe keys, links) become findings and are never read.
 */
async function listSlots(store: Store, request: CompareRequest, refused: Finding[]): Promise<Map<string, ObjectInfo>> {
  const listing = await listAll(store, request.version ? `${request.version}/` : '')
  for (const entry of listing.refused) {
    const where = `${store.display}/${displayKey(entry.key)}`
    refused.push({kind: 'unsafe-key', message: `${where}: unsafe object name (${entry.refused}): never read`, severity: 'integrity', where})
  }
  const found = new Map<string, ObjectInfo>()
  const flat = new Map<string, ObjectInfo>()
  for (const slot of groupObjects(request.artifact, listing.objects).slots) {
    if (!slot.binary || slot.file !== request.artifact.file || (request.version && slot.version !== request.version)) continue
    if (slot.arch) found.set(slotName(slot.version, slot.arch), slot.binary)
    else if (request.artifact.legacyFlat) flat.set(slotName(slot.version, 'amd64'), slot.binary)
  }
  for (const [slot, binary] of flat) if (!found.has(slot)) found.set(slot, binary)
  for (const slot of found.keys()) if (request.arch && !slot.endsWith(`/${request.arch}`)) found.delete(slot)
  return found
}

interface Opened {
  readonly location: Location
  readonly held: Map<string, Held>
  /** Listed names that were refused, as findings. */
  readonly refused: readonly Finding[]
  readonly store?: Store
}

/** What a bucket or directory holds. The store stays open: comparing may need to read content. */
async function openLocation(location: Location, request: CompareRequest): Promise<Opened> {
  const store = await openStore(location, artifactRoot(location, request.artifact, request.layout))
  const held = new Map<string, Held>()
  const refused: Finding[] = []
  try {
    let binaries: Map<string, ObjectInfo>
    if (isListable(location)) {
      binaries = await listSlots(store, request, refused)
    } else {
      if (!request.version) throw new UsageError(`${location.display} cannot be listed over HTTP: pass --version to compare it`)
      binaries = new Map()
      for (const arch of request.arch ? [request.arch] : ARCHES) {
        const info = await statSlot(store, request.artifact, request.version, arch)
        if (info) binaries.set(slotName(request.version, arch), info)
      }
    }
    await mapLimit([...binaries], request.concurrency, async ([slot, listed]) => {
      // A listing may omit what a stat tells (S3: sha256 metadata, checksums); gzip-encoded objects have nothing to tell.
      const info = expectedSha256(listed) || listed.encoding ? listed : ((await store.stat(listed.key)) ?? listed)
      held.set(slot, await heldAt(store, info, request.artifact))
    })
    return {held, location, refused, store}
  } catch (error) {
    await store.close?.()
    throw error
  }
}

async function openGithub(location: Location, request: CompareRequest): Promise<Opened> {
  if (location.scheme !== 'github') throw new UsageError(`${location.display} is not a GitHub location`)
  if (!request.version) throw new UsageError(`${location.display}: GitHub releases are compared per version: pass --version`)
  const {releaseDigests} = await import('../shared/release-digests.js')
  const byArch = await releaseDigests(location, request.artifact, request.version, request.tag)
  const held = new Map<string, Held>()
  for (const [arch, sha256] of byArch) if (!request.arch || arch === request.arch) held.set(slotName(request.version, arch), {sha256, where: location.display})
  return {held, location, refused: []}
}

/** Groups the locations holding a slot into sets of identical content. */
async function classes(present: readonly Opened[], slot: string): Promise<{members: Opened[]; by: Set<string>}[]> {
  const groups: {members: Opened[]; by: Set<string>}[] = []
  for (const candidate of present) {
    let placed = false
    for (const group of groups) {
      const {by, same} = await compareHeld(group.members[0]!.held.get(slot)!, candidate.held.get(slot)!)
      if (!same) continue
      group.members.push(candidate)
      group.by.add(by)
      placed = true
      break
    }
    if (!placed) groups.push({by: new Set(), members: [candidate]})
  }
  return groups
}

/**
 * `verify --against`: for each version and arch, whether every location
 * holds the same content, and where it is missing. Locations are compared by
 * whatever digests they share (sidecar or sha256 metadata, the services' md5
 * and crc32c), so kernels without sidecars compare too; where two share none,
 * the content is read and hashed.
 */
/**
 * Each location's copy of a slot against the lock's entry: by the sha256 it
 * records, or by its content, hashed, when it records none (a kernel without
 * a sidecar).
 */
async function slotAgainstLock(lock: VerifyLock, request: CompareRequest, slot: string, present: readonly Opened[]): Promise<Finding[]> {
  const [version, arch] = slot.split('/') as [string, Arch]
  const entry = entryForFile(lock.file, request.artifact, version, arch, request.artifact.file)
  const what = `${request.artifact.name} ${slot}`
  if (!entry) return [notLocked(lock, {arch, version, where: lock.display}, what)]
  const findings: Finding[] = []
  for (const {held, location} of present) {
    const copy = held.get(slot)!
    const sha256 = copy.sha256 ?? (await copy.rehash?.())
    if (sha256 === undefined) continue
    findings.push(lockFinding(lock, entry, {checked: true, sha256, size: copy.size}, {arch, version, where: location.display}, `${what} at ${location.display}`))
  }
  return findings
}

export async function compareLocations(request: CompareRequest, lock?: VerifyLock): Promise<VerifyReport> {
  const settled = await Promise.allSettled(request.locations.map((location) => (location.scheme === 'github' ? openGithub(location, request) : openLocation(location, request))))
  const opened = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  try {
    const failure = settled.find((result) => result.status === 'rejected')
    if (failure) throw failure.reason
    const slots = new Set<string>(opened.flatMap(({held}) => [...held.keys()]))
    if (request.version) for (const arch of request.arch ? [request.arch] : ARCHES) slots.add(slotName(request.version, arch))
    const findings: Finding[] = opened.flatMap(({refused}) => refused)
    for (const slot of [...slots].sort()) {
      const [version, arch] = slot.split('/') as [string, Arch]
      const base = {arch, version}
      const present = opened.filter(({held}) => held.has(slot))
      if (present.length === 0) {
        findings.push({...base, kind: 'missing', message: `${request.artifact.name} ${slot} is in none of the locations`, severity: 'not-found', where: 'all'})
        continue
      }
      if (lock) findings.push(...(await slotAgainstLock(lock, request, slot, present)))
      const groups = await classes(present, slot)
      const sha256 = present.map(({held}) => held.get(slot)!.sha256).find((digest) => digest !== undefined)
      if (groups.length > 1) {
        const detail = present.map(({held, location}) => `${location.display}=${shortDigest(held.get(slot)!)}`).join(', ')
        findings.push({...base, kind: 'disagree', message: `${request.artifact.name} ${slot} differs: ${detail}`, severity: 'integrity', where: present.map(({location}) => location.display).join(' ')})
      }
      for (const {location} of opened.filter(({held}) => !held.has(slot))) {
        findings.push({...base, kind: 'missing', message: `${request.artifact.name} ${slot} is missing from ${location.display}`, severity: 'not-found', where: location.display})
      }
      if (groups.length === 1 && present.length === opened.length) {
        const by = [...groups[0]!.by].join('; ')
        findings.push({...base, kind: 'ok', message: `${request.artifact.name} ${slot} agrees in ${present.length} locations${by ? ` (by ${by})` : ''}`, severity: 'ok', sha256, where: 'all'})
      }
    }
    return buildReport('against', request.artifact.name, findings, slots.size)
  } finally {
    await Promise.allSettled(opened.map(({store}) => store?.close?.()))
  }
}
