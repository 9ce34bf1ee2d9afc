import {mapLimit} from '../../core/concurrency.js'
import {ArtifactError} from '../../core/errors.js'
import {displayKey} from '../../core/keys.js'
import {artifactRoot} from '../../core/location.js'
import {checkElfArch} from '../../integrity/elf.js'
import {withRetry} from '../../net/retry.js'
import {openStore} from '../../stores/open-store.js'
import {type HashedObject, hashObject} from '../../stores/ops/hash-object.js'
import {listAll} from '../../stores/ops/list-all.js'
import {readSidecar} from '../../stores/ops/read-sidecar.js'
import {readHead} from '../../stores/ops/read-small.js'
import type {ObjectInfo, Store} from '../../stores/store.js'
import {type Finding, type VerifyReport, buildReport} from './findings.js'
import {entryForFile} from '../../integrity/lock-file.js'
import {type VerifyLock, lockFinding} from './lock-check.js'
import type {VerifyRequest} from './request.js'
import {type Slot, groupObjects} from './slots.js'

export type AuditRequest = Extract<VerifyRequest, {mode: 'at'}>

type Base = Pick<Finding, 'arch' | 'version' | 'where'>

/** What a store says about a binary: the listing, or a stat when the listing carries no digest (S3 lists only ETags). */
async function describe(store: Store, object: ObjectInfo): Promise<ObjectInfo> {
  if (object.sha256 !== undefined || object.metadataSha256 !== undefined || store.provider === 'file') return object
  return (await store.stat(object.key)) ?? object
}

/** The ELF machine check, from bytes already read or a ranged read of the header; a mismatch becomes a finding. */
async function elfFinding(store: Store, slot: Slot, base: Base, head: Buffer | undefined): Promise<Finding | undefined> {
  try {
    checkElfArch(head ?? (await withRetry('header download', () => readHead(store, slot.key, 64))), slot.arch!, base.where)
    return undefined
  } catch (error) {
    if (!(error instanceof ArtifactError) || error.exitCode !== 3) throw error
    return {...base, kind: 'elf-mismatch', message: error.message, severity: 'integrity'}
  }
}

/**
 * A binary without a sidecar, where the artifact's sidecar is optional: no
 * digest records what it should be, but its content can still be checked
 * against the service's own checksum (storage damage), unless nothing may be
 * downloaded.
 */
async function auditUnrecorded(store: Store, slot: Slot, request: AuditRequest, base: Base): Promise<Finding[]> {
  const optional = `has no sidecar (optional for ${request.artifact.name})`
  if (request.metadataOnly) return [{...base, kind: 'unverified', message: `${base.where} ${optional}: not checked (--metadata-only)`, severity: 'info'}]
  let content: HashedObject
  try {
    content = await hashObject(store, slot.key, {checkService: true})
  } catch (error) {
    if (!(error instanceof ArtifactError) || error.exitCode !== 3) throw error
    return [{...base, kind: 'digest-mismatch', message: error.message, severity: 'integrity'}]
  }
  const elf = request.artifact.elf && slot.arch ? await elfFinding(store, slot, base, content.head) : undefined
  if (elf) return [elf]
  if (content.serviceVerified) {
    return [{...base, kind: 'ok', message: `${base.where} ${optional}; its content matches the service's checksum (${content.serviceVerified})`, severity: 'ok', sha256: content.sha256}]
  }
  return [{...base, kind: 'unverified', message: `${base.where} ${optional}, and the store keeps no checksum of its content: nothing to check it against`, severity: 'info', sha256: content.sha256}]
}

/**
 * Checks one slot; every problem becomes a finding, never an exception. A
 * sidecar's digest is checked against the service's own sha256 where the
 * service computed one (S3 ChecksumSHA256), and otherwise against the
 * content, rehashed: `sha256` metadata is a client's claim, which can show a
 * mismatch but never vouch for the bytes. `--deep` rehashes everything;
 * `--metadata-only` downloads no binary and reports what it could not check
 * as unverified.
 */
async function auditSlot(store: Store, slot: Slot, request: AuditRequest): Promise<Finding[]> {
  const base: Base = {arch: slot.arch, version: slot.version, where: `${store.display}/${slot.key}`}
  const problem = (kind: Finding['kind'], message: string, sha256?: string): Finding => ({...base, kind, message, severity: 'integrity', sha256})
  if (!slot.binary) return [problem('orphan-sidecar', `${base.where}.sha256 has no binary next to it`)]
  if (!slot.sidecar) {
    if (request.artifact.sidecarRequired) return [problem('missing-sidecar', `${base.where} has no sidecar`)]
    return auditUnrecorded(store, slot, request, base)
  }
  let recorded: string
  try {
    recorded = (await readSidecar(store, slot.key, slot.file)).sha256
  } catch (error) {
    if (!(error instanceof ArtifactError) || error.exitCode !== 3) throw error
    return [problem('malformed-sidecar', error.message)]
  }
  const findings: Finding[] = []
  const info = await describe(store, slot.binary)
  if (info.metadataSha256 !== undefined && info.metadataSha256 !== recorded) {
    findings.push(problem('metadata-mismatch', `${base.where} has sha256 metadata ${info.metadataSha256}, but its sidecar says ${recorded}`, info.metadataSha256))
  }
  if (info.sha256 !== undefined && info.sha256 !== recorded) {
    findings.push(problem('digest-mismatch', `${base.where} has sha256 ${info.sha256} by the service's own checksum, but its sidecar says ${recorded}`, info.sha256))
  }
  let checkedBy = info.sha256 === recorded ? "the service's sha256" : undefined
  let head: Buffer | undefined
  if (request.deep || (checkedBy === undefined && !request.metadataOnly)) {
    const content = await hashObject(store, slot.key)
    head = content.head
    if (content.sha256 === recorded) checkedBy = 'rehashed'
    else findings.push(problem('digest-mismatch', `${base.where} has sha256 ${content.sha256}, but its sidecar says ${recorded}`, content.sha256))
  }
  if (request.artifact.elf && slot.arch && !request.metadataOnly) {
    const elf = await elfFinding(store, slot, base, head)
    if (elf) findings.push(elf)
  }
  if (findings.length > 0) return findings
  if (checkedBy === undefined) {
    const why = info.metadataSha256 === recorded ? 'its sha256 metadata agrees with its sidecar, but metadata is a claim, not a checksum of the content' : 'the store keeps no sha256 of its content'
    return [{...base, kind: 'unverified', message: `${base.where}: ${why}; not checked (--metadata-only)`, severity: 'info', sha256: recorded}]
  }
  const header = request.metadataOnly && request.artifact.elf ? '; ELF header not read' : ''
  return [{...base, kind: 'ok', message: `${base.where} matches its sidecar (${checkedBy}${header})`, severity: 'ok', sha256: recorded}]
}

/**
 * The slot's digest, once the audit has vouched for it (or, with
 * --metadata-only, what its sidecar says), compared with the lock's entry.
 * A slot that failed its audit has no digest to compare: it fails already.
 */
function slotAgainstLock(lock: VerifyLock, request: AuditRequest, slot: Slot, findings: readonly Finding[], where: string): Finding | undefined {
  const held = findings.find((finding) => finding.severity === 'ok' || finding.kind === 'unverified')
  if (findings.some((finding) => finding.severity === 'integrity') || held?.sha256 === undefined) return undefined
  const entry = entryForFile(lock.file, request.artifact, slot.version, slot.arch, slot.file)
  const size = slot.binary && !slot.binary.encoding ? slot.binary.size : undefined
  return lockFinding(lock, entry, {checked: held.kind === 'ok', sha256: held.sha256, size}, {arch: slot.arch, version: slot.version, where}, where)
}

/** `verify --at`: audits every `{version}/{arch}` slot (or the chosen one) under the artifact's root, and with --lock compares each with the lock. */
export async function auditLocation(request: AuditRequest, lock?: VerifyLock): Promise<VerifyReport> {
  const store = await openStore(request.location, artifactRoot(request.location, request.artifact, request.layout))
  try {
    const listing = await listAll(store, request.version ? `${request.version}/` : '')
    const grouped = groupObjects(request.artifact, listing.objects)
    const slots = grouped.slots.filter((slot) => (!request.version || slot.version === request.version) && (!request.arch || slot.arch === request.arch))
    const findings: Finding[] = []
    if (slots.length === 0 && listing.refused.length === 0) {
      const what = [request.artifact.name, request.version, request.arch].filter(Boolean).join(' ')
      findings.push({arch: request.arch, kind: 'missing', message: `no ${what} at ${store.display}`, severity: 'not-found', version: request.version, where: store.display})
    }
    for (const entry of listing.refused) {
      const where = `${store.display}/${displayKey(entry.key)}`
      findings.push({kind: 'unsafe-key', message: `${where}: unsafe object name (${entry.refused}): never read`, severity: 'integrity', where})
    }
    const perSlot = await mapLimit(slots, request.concurrency, async (slot) => {
      const found = await auditSlot(store, slot, request)
      const locked = lock && slotAgainstLock(lock, request, slot, found, `${store.display}/${slot.key}`)
      return locked ? [...found, locked] : found
    })
    findings.push(...perSlot.flat())
    for (const key of grouped.unexpected) {
      findings.push({kind: 'unexpected-object', message: `${store.display}/${key} is not a ${request.artifact.file} or its sidecar`, severity: 'info', where: `${store.display}/${key}`})
    }
    return buildReport('at', request.artifact.name, findings, slots.length + listing.refused.length)
  } finally {
    await store.close?.()
  }
}

