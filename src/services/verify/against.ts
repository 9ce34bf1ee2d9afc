import {ARCHES, type Arch, type Artifact} from '../../core/catalog.js'
import {mapLimit} from '../../core/concurrency.js'
import {UsageError} from '../../core/errors.js'
import {binaryKey, displayKey} from '../../core/keys.js'
import {type Location, artifactRoot} from '../../core/location.js'
import {expectedSha256} from '../../integrity/content-identity.js'
import {openStore} from '../../stores/open-store.js'
import {listAll} from '../../stores/ops/list-all.js'
import {readSidecar} from '../../stores/ops/read-sidecar.js'
import type {Store} from '../../stores/store.js'
import {type Finding, type VerifyReport, buildReport} from './findings.js'
import type {VerifyRequest} from './request.js'
import {groupObjects} from './slots.js'

export type CompareRequest = Extract<VerifyRequest, {mode: 'against'}>

/** `version/arch` → sha256, for one location. */
type Digests = Map<string, string>

/** What one location records: its digests, and the listed names it refused (unsafe keys, links). */
interface Recorded {
  readonly digests: Digests
  readonly refused: readonly Finding[]
}

const slotName = (version: string, arch: Arch): string => `${version}/${arch}`

/** The digest a location records for a binary: its sidecar, or its sha256 metadata when it has none. */
async function recordedDigest(store: Store, key: string, artifact: Artifact): Promise<string | undefined> {
  const sidecar = await readSidecar(store, key, artifact.file, {optional: true})
  const info = sidecar ? undefined : await store.stat(key)
  return sidecar ? sidecar.sha256 : info && expectedSha256(info)
}

/** Digests recorded in a bucket or directory: the sidecar, or the sha256 metadata when there is none. */
async function storeDigests(location: Location, request: CompareRequest): Promise<Recorded> {
  const store = await openStore(location, artifactRoot(location, request.artifact, request.layout))
  try {
    const arches = request.arch ? [request.arch] : ARCHES
    let keys: Array<{version: string; arch: Arch}>
    const refused: Finding[] = []
    if (location.scheme === 'http' || location.scheme === 'https') {
      if (!request.version) throw new UsageError(`${location.display} cannot be listed over HTTP: pass --version to compare it`)
      keys = arches.map((arch) => ({arch, version: request.version!}))
    } else {
      const listing = await listAll(store, request.version ? `${request.version}/` : '')
      for (const entry of listing.refused) {
        const where = `${store.display}/${displayKey(entry.key)}`
        refused.push({kind: 'unsafe-key', message: `${where}: unsafe object name (${entry.refused}): never read`, severity: 'integrity', where})
      }
      keys = groupObjects(request.artifact, listing.objects)
        .slots.filter((slot) => slot.binary && slot.arch && arches.includes(slot.arch) && (!request.version || slot.version === request.version))
        .map((slot) => ({arch: slot.arch!, version: slot.version}))
    }
    const digests: Digests = new Map()
    await mapLimit(keys, request.concurrency, async ({arch, version}) => {
      const digest = await recordedDigest(store, binaryKey(request.artifact, version, arch), request.artifact)
      if (digest) digests.set(slotName(version, arch), digest)
    })
    return {digests, refused}
  } finally {
    await store.close?.()
  }
}

async function githubDigests(location: Location, request: CompareRequest): Promise<Recorded> {
  if (location.scheme !== 'github') throw new UsageError(`${location.display} is not a GitHub location`)
  if (!request.version) throw new UsageError(`${location.display}: GitHub releases are compared per version: pass --version`)
  const {releaseDigests} = await import('../shared/release-digests.js')
  const byArch = await releaseDigests(location, request.artifact, request.version, request.tag)
  const digests: Digests = new Map()
  for (const [arch, sha256] of byArch) if (!request.arch || arch === request.arch) digests.set(slotName(request.version, arch), sha256)
  return {digests, refused: []}
}

/** `verify --against`: one digest per version and arch for each location, and where they disagree or are missing. */
export async function compareLocations(request: CompareRequest): Promise<VerifyReport> {
  const perLocation = await Promise.all(
    request.locations.map(async (location) => ({
      ...(location.scheme === 'github' ? await githubDigests(location, request) : await storeDigests(location, request)),
      location,
    })),
  )
  const slots = new Set<string>(perLocation.flatMap(({digests}) => [...digests.keys()]))
  if (request.version) for (const arch of request.arch ? [request.arch] : ARCHES) slots.add(slotName(request.version, arch))
  const findings: Finding[] = perLocation.flatMap(({refused}) => refused)
  for (const slot of [...slots].sort()) {
    const [version, arch] = slot.split('/') as [string, Arch]
    const present = perLocation.filter(({digests}) => digests.has(slot))
    const distinct = new Set(present.map(({digests}) => digests.get(slot)))
    const base = {arch, version}
    if (present.length === 0) {
      findings.push({...base, kind: 'missing', message: `${request.artifact.name} ${slot} is in none of the locations`, severity: 'not-found', where: 'all'})
      continue
    }
    if (distinct.size > 1) {
      const detail = present.map(({digests, location}) => `${location.display}=${digests.get(slot)!.slice(0, 12)}…`).join(', ')
      findings.push({...base, kind: 'disagree', message: `${request.artifact.name} ${slot} differs: ${detail}`, severity: 'integrity', where: present.map(({location}) => location.display).join(' ')})
    }
    for (const {location} of perLocation.filter(({digests}) => !digests.has(slot))) {
      findings.push({...base, kind: 'missing', message: `${request.artifact.name} ${slot} is missing from ${location.display}`, severity: 'not-found', where: location.display})
    }
    if (distinct.size === 1 && present.length === perLocation.length) {
      findings.push({...base, kind: 'ok', message: `${request.artifact.name} ${slot} agrees in ${present.length} locations`, severity: 'ok', sha256: [...distinct][0], where: 'all'})
    }
  }
  return buildReport('against', request.artifact.name, findings, slots.size)
}
