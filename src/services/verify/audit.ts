import {mapLimit} from '../../core/concurrency.js'
import {ArtifactError} from '../../core/errors.js'
import {artifactRoot} from '../../core/location.js'
import {checkElfArch} from '../../integrity/elf.js'
import {withRetry} from '../../net/retry.js'
import {openStore} from '../../stores/open-store.js'
import {hashObject} from '../../stores/ops/hash-object.js'
import {listAll} from '../../stores/ops/list-all.js'
import {readSidecar} from '../../stores/ops/read-sidecar.js'
import {readHead} from '../../stores/ops/read-small.js'
import type {Store} from '../../stores/store.js'
import {type Finding, type VerifyReport, buildReport} from './findings.js'
import type {VerifyRequest} from './request.js'
import {type Slot, groupObjects} from './slots.js'

export type AuditRequest = Extract<VerifyRequest, {mode: 'at'}>

/** Checks one slot; every problem becomes a finding, never an exception. */
async function auditSlot(store: Store, slot: Slot, request: AuditRequest): Promise<Finding[]> {
  const base = {arch: slot.arch, version: slot.version, where: `${store.display}/${slot.key}`}
  const problem = (kind: Finding['kind'], message: string, sha256?: string): Finding => ({...base, kind, message, severity: 'integrity', sha256})
  if (!slot.binary) return [problem('orphan-sidecar', `${base.where}.sha256 has no binary next to it`)]
  if (!slot.sidecar) {
    return [
      request.artifact.sidecarRequired
        ? problem('missing-sidecar', `${base.where} has no sidecar`)
        : {...base, kind: 'unverified', message: `${base.where} has no sidecar (optional for ${request.artifact.name})`, severity: 'info'},
    ]
  }
  let recorded: string
  try {
    recorded = (await readSidecar(store, slot.key, slot.file)).sha256
  } catch (error) {
    if (!(error instanceof ArtifactError) || error.exitCode !== 3) throw error
    return [problem('malformed-sidecar', error.message)]
  }
  const findings: Finding[] = []
  const metadata = slot.binary.sha256 ?? (await store.stat(slot.key))?.sha256
  if (metadata && metadata !== recorded) findings.push(problem('metadata-mismatch', `${base.where} has sha256 metadata ${metadata}, but its sidecar says ${recorded}`, metadata))
  let head: Buffer | undefined
  if (request.deep) {
    const content = await hashObject(store, slot.key)
    head = content.head
    if (content.sha256 !== recorded) findings.push(problem('digest-mismatch', `${base.where} has sha256 ${content.sha256}, but its sidecar says ${recorded}`, content.sha256))
  }
  if (request.artifact.elf && slot.arch) {
    try {
      checkElfArch(head ?? (await withRetry('header download', () => readHead(store, slot.key, 64))), slot.arch, base.where)
    } catch (error) {
      if (!(error instanceof ArtifactError) || error.exitCode !== 3) throw error
      findings.push(problem('elf-mismatch', error.message))
    }
  }
  if (findings.length > 0) return findings
  if (!metadata && !request.deep) {
    return [{...base, kind: 'unverified', message: `${base.where} has no sha256 metadata to compare with its sidecar: use --deep to rehash it`, severity: 'info', sha256: recorded}]
  }
  return [{...base, kind: 'ok', message: `${base.where} matches its sidecar${request.deep ? ' (rehashed)' : ''}`, severity: 'ok', sha256: recorded}]
}

/** `verify --at`: audits every `{version}/{arch}` slot (or the chosen one) under the artifact's root. */
export async function auditLocation(request: AuditRequest): Promise<VerifyReport> {
  const store = await openStore(request.location, artifactRoot(request.location, request.artifact, request.layout))
  try {
    const objects = await listAll(store, request.version ? `${request.version}/` : '')
    const grouped = groupObjects(request.artifact, objects)
    const slots = grouped.slots.filter((slot) => (!request.version || slot.version === request.version) && (!request.arch || slot.arch === request.arch))
    const findings: Finding[] = []
    if (slots.length === 0) {
      const what = [request.artifact.name, request.version, request.arch].filter(Boolean).join(' ')
      findings.push({arch: request.arch, kind: 'missing', message: `no ${what} at ${store.display}`, severity: 'not-found', version: request.version, where: store.display})
    }
    const perSlot = await mapLimit(slots, request.concurrency, (slot) => auditSlot(store, slot, request))
    findings.push(...perSlot.flat())
    for (const key of grouped.unexpected) {
      findings.push({kind: 'unexpected-object', message: `${store.display}/${key} is not a ${request.artifact.file} or its sidecar`, severity: 'info', where: `${store.display}/${key}`})
    }
    return buildReport('at', request.artifact.name, findings, slots.length)
  } finally {
    await store.close?.()
  }
}
