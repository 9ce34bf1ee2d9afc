import path from 'node:path'

import {Limiter, mapLimit} from '../../core/concurrency.js'
import {type ExitCodeValue, IntegrityError, NotFoundError, UsageError, exitCodeOf, kindOf} from '../../core/errors.js'
import {mostSevere} from '../../core/failures.js'
import {artifactNamed} from '../../core/catalog.js'
import {displayKey, isSidecarKey, keyOfSidecar, parseArtifactKey, unsafeKeyMessage} from '../../core/keys.js'
import {artifactRoot} from '../../core/location.js'
import {describeSlot, entryForFile} from '../../integrity/lock-file.js'
import {openStore} from '../../stores/open-store.js'
import {listAll} from '../../stores/ops/list-all.js'
import {readSidecar} from '../../stores/ops/read-sidecar.js'
import type {ObjectInfo, RefusedEntry, Store} from '../../stores/store.js'
import {runService} from '../runner.js'
import {readLockFile} from '../shared/lock-file-io.js'
import {type CopyContext, type DestinationState, type ObjectOutcome, copyObject, destinationState} from './copy-object.js'
import {type CopyUnit, planCopies} from './plan.js'
import type {CopyRequest, CopyTarget} from './request.js'
import {SourceObject} from './source-object.js'

/**
 * Copies that stream through this host (between providers) hash every byte
 * on Node's one JavaScript thread, so a few streams already saturate it; more
 * would only hold more buffers (--concurrency 64 would mean 64 streams).
 * Server-side copies cost the host nothing and use the whole --concurrency.
 */
const MAX_STREAMS = 4

export interface CopySummary {
  readonly copied: number
  readonly skipped: number
  readonly conflicts: number
  readonly failed: number
  /** Sidecars not attempted because their binary was not copied. */
  readonly held: number
  /** Listed names that are not safe content (unsafe keys, links): never read or written, each an integrity failure. */
  readonly refused: number
  readonly wouldCopy: number
  /** Bytes of the objects copied (server side or streamed); 0 on a run with nothing to do. */
  readonly bytesCopied: number
  readonly seconds: number
  readonly exitCode: ExitCodeValue
}

/** A failure that stopped a whole artifact (its listing), rather than one object. */
export interface ArtifactFailure {
  readonly artifact: string
  readonly kind: string
  readonly exitCode: number
  readonly message: string
}

export interface CopyReport {
  readonly from: string
  readonly dryRun: boolean
  readonly force: boolean
  readonly destinations: Readonly<Record<string, string>>
  readonly objects: readonly ObjectOutcome[]
  readonly errors: readonly ArtifactFailure[]
  readonly summary: CopySummary
}

export interface CopyEvents {
  /** Each object as soon as it is decided, for one-line-per-object progress. */
  onObject?(outcome: ObjectOutcome): void
  onWarning?(message: string): void
  onRetry?(message: string): void
}

interface PreparedArtifact {
  readonly context: CopyContext
  readonly units: readonly CopyUnit[]
  /** Outcomes decided by the listing alone: refused names, and the sidecars of refused objects. */
  readonly decided: readonly ObjectOutcome[]
  /** Where the source was listed, for the warning when it held nothing. */
  readonly listed: string
}

/**
 * Opens both sides of one artifact and lists them once each: the source under
 * its public prefix, the destination at its root (or as its name says; see
 * layoutOf). The destination listing answers "is it there already?" for every
 * object without a request per object.
 */
async function prepareArtifact(target: CopyTarget, request: CopyRequest, shared: {stores: Store[]; streams: Limiter; lock?: CopyContext['lock']}, events: CopyEvents): Promise<PreparedArtifact> {
  const {stores} = shared
  const {artifact} = target
  const source = await openStore(request.from, artifactRoot(request.from, artifact))
  stores.push(source)
  const destination = await openStore(target.to, artifactRoot(target.to, artifact, request.layout))
  stores.push(destination)
  if (source.display === destination.display) throw new UsageError(`${artifact.name}: the source and the destination are both ${source.display}`)
  const prefix = request.version ? `${request.version}/` : ''
  const [listing, existing] = await Promise.all([listAll(source, prefix), listAll(destination, prefix)])
  const refusedKeys = new Set(listing.refused.map((entry) => entry.key))
  // A sidecar vouches for its object: with the object refused, it is held back, not copied as an orphan.
  const heldSidecars = listing.objects.filter((object) => isSidecarKey(object.key) && refusedKeys.has(keyOfSidecar(object.key)))
  const plan = planCopies(listing.objects.filter((object) => !heldSidecars.includes(object)))
  for (const key of plan.orphanSidecars) events.onWarning?.(`${source.display}/${key} has no object next to it: copied as it is`)
  // The destination's own odd names are never written to; a copy that would pass through one fails on its own.
  for (const entry of existing.refused) events.onWarning?.(`${unsafeKeyMessage(destination.display, entry.key, entry.refused)} (at the destination)`)
  const context: CopyContext = {
    artifact: artifact.name,
    destination,
    dryRun: request.dryRun,
    force: request.force,
    listed: new Map(existing.objects.map((object) => [object.key, object])),
    lock: shared.lock,
    onRetry: events.onRetry,
    source,
    streams: shared.streams,
  }
  const decided = [
    ...listing.refused.map((entry) => refusedOutcome(context, entry)),
    ...heldSidecars.map((sidecar): ObjectOutcome => ({
      ...where(context, sidecar.key),
      action: 'held',
      bytes: sidecar.size,
      reason: `not copied, because its object ${displayKey(keyOfSidecar(sidecar.key))} was refused`,
    })),
  ]
  return {context, decided, listed: `${source.display}/${prefix}`, units: plan.units}
}

function where(context: CopyContext, key: string): Pick<ObjectOutcome, 'artifact' | 'destination' | 'key' | 'source'> {
  const shown = displayKey(key)
  return {artifact: context.artifact, destination: `${context.destination.display}/${shown}`, key, source: `${context.source.display}/${shown}`}
}

/** A listed name that is never read, written or turned into a path: an integrity failure of the source, also in a dry run. */
function refusedOutcome(context: CopyContext, entry: RefusedEntry): ObjectOutcome {
  const error = new IntegrityError(unsafeKeyMessage(context.source.display, entry.key, entry.refused))
  return {...where(context, entry.key), action: 'refused', bytes: 0, error: {exitCode: error.exitCode, kind: error.kind, message: error.message}, reason: entry.refused}
}

function failedOutcome(context: CopyContext, object: ObjectInfo, error: unknown): ObjectOutcome {
  const failure = {exitCode: exitCodeOf(error), kind: kindOf(error), message: (error as Error).message}
  return {...where(context, object.key), action: 'failed', bytes: object.size, error: failure}
}

/**
 * Reads a sidecar and checks it against its object's sha256 before either is
 * copied. A sidecar that disagrees keeps the whole pair where it is.
 */
async function checkedSidecar(context: CopyContext, object: SourceObject, sidecar: ObjectInfo): Promise<Buffer> {
  const where = `${context.source.display}/${sidecar.key}`
  const recorded = await readSidecar(context.source, keyOfSidecar(sidecar.key), path.posix.basename(object.key), {onRetry: context.onRetry})
  const actual = await object.sha256()
  if (recorded.sha256 !== actual) {
    throw new IntegrityError(`${where} says ${recorded.sha256}, but ${object.where} has sha256 ${actual}: neither is copied; fix the source`)
  }
  return recorded.content
}

/**
 * Whether an object the lock pins holds what the lock says, by its content's
 * sha256 (the service's own checksum, or the content hashed: never the
 * `sha256` metadata a client wrote, which a tampered object can carry).
 * Objects the lock does not pin, sidecars among them, pass.
 */
async function checkAgainstLock(context: CopyContext, object: SourceObject): Promise<void> {
  if (!context.lock) return
  const artifact = artifactNamed(context.artifact)
  const parsed = parseArtifactKey(artifact, object.key)
  if (!parsed || parsed.sidecar) return
  const entry = entryForFile(context.lock.file, artifact, parsed.version, parsed.arch, parsed.file)
  if (!entry) return
  const [info, sha256] = await Promise.all([object.info(), object.contentSha256()])
  const pinned = `${context.lock.display} pins ${describeSlot(entry)} to ${entry.sha256}`
  if (sha256 !== entry.sha256) throw new IntegrityError(`${object.where} has sha256 ${sha256}, but ${pinned}: neither it nor its sidecar is copied`)
  if (info.size !== entry.size) throw new IntegrityError(`${object.where} is ${info.size} bytes, but ${pinned} (${entry.size} bytes): neither it nor its sidecar is copied`)
}

/**
 * One unit: an object and its sidecar. An object that disagrees with the
 * lock is not copied, and neither is its sidecar. When the destination
 * already holds both, identical, nothing is written and the sidecar is not
 * read. Otherwise the sidecar is read and checked against the object first,
 * then the object is copied and verified, and only then the sidecar (the
 * exact bytes that were checked) is written.
 */
async function copyUnit(context: CopyContext, unit: CopyUnit): Promise<ObjectOutcome[]> {
  const object = SourceObject.listed(context.source, unit.object)
  try {
    await checkAgainstLock(context, object)
  } catch (error) {
    const held = unit.sidecar && {...where(context, unit.sidecar.key), action: 'held' as const, bytes: unit.sidecar.size, reason: `not copied, because ${object.where} disagrees with ${context.lock!.display}`}
    return held ? [failedOutcome(context, unit.object, error), held] : [failedOutcome(context, unit.object, error)]
  }
  if (!unit.sidecar) return [await copyObject(context, object)]
  const sidecar = SourceObject.listed(context.source, unit.sidecar)
  const stateOf = (each: SourceObject): Promise<DestinationState> => destinationState(context, each, context.listed.get(each.key))
  let objectState: DestinationState
  let content: Buffer
  try {
    const sidecarState = await stateOf(sidecar)
    objectState = await stateOf(object)
    if (objectState.verdict === 'same' && sidecarState.verdict === 'same') {
      return [await copyObject(context, object, objectState), await copyObject(context, sidecar, sidecarState)]
    }
    content = await checkedSidecar(context, object, unit.sidecar)
  } catch (error) {
    return [failedOutcome(context, unit.object, error), failedOutcome(context, unit.sidecar, error)]
  }
  const first = await copyObject(context, object, objectState)
  if (first.action !== 'copied' && first.action !== 'skipped' && first.action !== 'would-copy') {
    const reason = `not copied, because ${first.destination} was not (${first.action})`
    return [first, {...where(context, unit.sidecar.key), action: 'held', bytes: content.length, reason}]
  }
  return [first, await copyObject(context, SourceObject.withContent(context.source, unit.sidecar.key, content))]
}

function summarize(objects: readonly ObjectOutcome[], errors: readonly ArtifactFailure[], seconds: number): CopySummary {
  const count = (action: ObjectOutcome['action']): number => objects.filter((o) => o.action === action).length
  const codes = [...objects.flatMap((o) => (o.error ? [o.error.exitCode] : [])), ...errors.map((e) => e.exitCode)]
  return {
    bytesCopied: objects.filter((o) => o.action === 'copied').reduce((sum, o) => sum + o.bytes, 0),
    conflicts: count('conflict'),
    copied: count('copied'),
    exitCode: mostSevere(codes),
    failed: count('failed'),
    held: count('held'),
    refused: count('refused'),
    seconds: Math.round(seconds * 1000) / 1000,
    skipped: count('skipped'),
    wouldCopy: count('would-copy'),
  }
}

/**
 * `copy-public-builds`: every object under each artifact's public prefix, into
 * the destination's root, skipping identical objects, refusing to overwrite
 * different ones without --force, sidecars after their objects, all verified.
 * Per-object failures are reported in the result, not thrown; only usage
 * errors and "nothing at all to copy" (not found) are thrown.
 */
export function copyPublicBuilds(request: CopyRequest, events: CopyEvents = {}): Promise<CopyReport> {
  return runService(() => copyAll(request, events))
}

async function copyAll(request: CopyRequest, events: CopyEvents): Promise<CopyReport> {
  const started = performance.now()
  // Read before anything is opened: a malformed lock is a usage error.
  const lock = request.lock && {display: request.lock.display, file: readLockFile(request.lock)!}
  const stores: Store[] = []
  const streams = new Limiter(Math.min(request.concurrency, MAX_STREAMS))
  try {
    const errors: ArtifactFailure[] = []
    const prepared: PreparedArtifact[] = []
    const settled = await Promise.allSettled(request.targets.map((target) => prepareArtifact(target, request, {lock, streams, stores}, events)))
    for (const [index, result] of settled.entries()) {
      if (result.status === 'fulfilled') {
        prepared.push(result.value)
        continue
      }
      if (result.reason instanceof UsageError) throw result.reason
      const error = result.reason as Error
      errors.push({artifact: request.targets[index]!.artifact.name, exitCode: exitCodeOf(error), kind: kindOf(error), message: error.message})
    }
    const work = prepared.flatMap(({context, units}) => units.map((unit) => ({context, unit})))
    const decided = prepared.flatMap((artifact) => artifact.decided)
    for (const outcome of decided) events.onObject?.(outcome)
    if (work.length === 0 && errors.length === 0 && decided.length === 0) {
      const what = request.version ? `version ${request.version} of ` : ''
      throw new NotFoundError(`nothing to copy: no objects for ${what}${request.targets.map((t) => t.artifact.name).join(', ')} under ${request.from.display}; check --from, --artifact and --version`)
    }
    for (const {context, decided: refused, listed, units} of prepared) if (units.length === 0 && refused.length === 0) events.onWarning?.(`no ${context.artifact} objects under ${listed}`)
    const results = await mapLimit(work, request.concurrency, async ({context, unit}) => {
      const outcomes = await copyUnit(context, unit)
      for (const outcome of outcomes) events.onObject?.(outcome)
      return outcomes
    })
    const objects = [...decided, ...results.flat()].sort((a, b) => a.artifact.localeCompare(b.artifact) || a.key.localeCompare(b.key))
    return {
      destinations: Object.fromEntries(prepared.map(({context}) => [context.artifact, context.destination.display])),
      dryRun: request.dryRun,
      errors,
      force: request.force,
      from: request.from.display,
      objects,
      summary: summarize(objects, errors, (performance.now() - started) / 1000),
    }
  } finally {
    await Promise.allSettled(stores.map((store) => store.close?.()))
  }
}
