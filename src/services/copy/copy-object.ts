import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream'

import type {ArtifactName} from '../../core/catalog.js'
import {isSidecarKey} from '../../core/keys.js'
import type {Limiter} from '../../core/concurrency.js'
import {ArtifactError, ConflictError, IntegrityError, OperationalError, exitCodeOf, kindOf} from '../../core/errors.js'
import {pauseAt, pauseMidStream} from '../../core/test-pause.js'
import {type Comparison, type ContentFacts, compareContent, expectedSha256, sameByMd5} from '../../integrity/content-identity.js'
import {HashingStream} from '../../integrity/hash.js'
import type {LockFile} from '../../integrity/lock-file.js'
import {classifyNetworkError} from '../../net/http-client.js'
import {type RetryOptions, withRetry} from '../../net/retry.js'
import {REHASHED, compareStored} from '../../stores/ops/compare-stored.js'
import {hashObject} from '../../stores/ops/hash-object.js'
import type {ObjectInfo, Store, WriteOptions} from '../../stores/store.js'
import type {SourceObject} from './source-object.js'

/** `refused`: a listed name that is not safe content (an unsafe key, a link), never read or written. */
export type CopyAction = 'copied' | 'skipped' | 'conflict' | 'failed' | 'would-copy' | 'held' | 'refused'

/** How bytes reached the destination. */
export type CopyMethod = 'server-side' | 'streamed' | 'from-memory'

export interface ObjectOutcome {
  readonly artifact: ArtifactName
  /** Key relative to the artifact root, the same on both sides. */
  readonly key: string
  readonly source: string
  readonly destination: string
  readonly action: CopyAction
  /** Size of the object; the summary counts it as moved only when `action` is `copied`. */
  readonly bytes: number
  readonly sha256?: string
  readonly method?: CopyMethod
  /** The digests that showed the destination identical (skipped) or the copy correct (copied). */
  readonly checkedBy?: readonly string[]
  readonly reason?: string
  readonly error?: {readonly kind: string; readonly exitCode: number; readonly message: string}
}

export interface CopyContext {
  readonly artifact: ArtifactName
  readonly source: Store
  readonly destination: Store
  /** The destination's objects as listed before any copy; a key missing here was absent then. */
  readonly listed: ReadonlyMap<string, ObjectInfo>
  readonly force: boolean
  readonly dryRun: boolean
  /** Bounds the copies that stream through this host (server-side copies are not counted). */
  readonly streams: Limiter
  /** The lock named with --lock: an object it pins is copied only if it matches. */
  readonly lock?: {readonly file: LockFile; readonly display: string}
  readonly onRetry?: (message: string) => void
}

/** What the destination holds at a key: nothing, this content, or other content. */
export type DestinationState = {readonly verdict: 'absent'} | Exclude<Comparison, {verdict: 'unknown'}>

function retryOptions(context: CopyContext): RetryOptions {
  return {onRetry: context.onRetry}
}

function asArtifactError(error: unknown, what: string): ArtifactError {
  const classified = classifyNetworkError(error, what)
  return classified instanceof ArtifactError ? classified : new OperationalError(`${what}: ${classified.message}`, {cause: error})
}

/**
 * What the destination holds at this object's key, given what a listing or
 * stat said about it (`known`; undefined means absent). Cheapest evidence
 * first: the digests both listings carry (or an S3 ETag that confirms an
 * MD5); then the source's full metadata (a stat, for listings without it)
 * against a fresh stat of the destination, by any service checksum or
 * sha256 they share; only then the source's sha256 (streamed when nothing
 * recorded it), and last the destination streamed through sha256 too (see
 * byContent). Size alone, or `sha256` metadata alone, never makes two
 * objects the same (a service checksum that disagrees wins over agreeing
 * metadata), and the stored size and digests of a gzip-encoded object are
 * never compared with anything.
 */
export async function destinationState(context: CopyContext, object: SourceObject, known: ObjectInfo | undefined): Promise<DestinationState> {
  if (!known) return {verdict: 'absent'}
  if (!object.listedInfo.encoding && !known.encoding) {
    const fromListings = compareFacts(object.listedInfo, known)
    if (fromListings.verdict !== 'unknown') return fromListings
  }
  const info = await object.info()
  const fresh = await context.destination.stat(object.key)
  if (!fresh) return {verdict: 'absent'}
  if (!fresh.encoding) {
    const fromMetadata = compareFacts(info, fresh)
    if (fromMetadata.verdict !== 'unknown') return fromMetadata
  }
  return byContent(context, object, info, fresh)
}

/**
 * By the digests the destination's service computed, against what the source
 * is known to hold, or an MD5 an S3 ETag stands for (which can only confirm).
 */
function compareFacts(source: ObjectInfo, destination: ObjectInfo): Comparison {
  const comparison = compareContent(destination, source)
  if (comparison.verdict !== 'unknown') return comparison
  return sameByMd5(source, destination) ? {by: ['md5 (ETag)'], verdict: 'same'} : comparison
}

/** Named in reports when the destination was read to compare its md5 with the source's. */
const MD5_REHASHED = 'md5 (rehashed)'

/**
 * Nothing the two sides' service checksums share decides it, so the
 * destination is read: against the source's md5 when the source records no
 * sha256 but its service keeps an md5 (upstream's `gsutil cp` uploads: then
 * the source is not read at all), else against the source's sha256 (read from
 * the source when nothing recorded it). What the read proves is not written
 * back as metadata: a digest a client writes is a claim, and a claim must
 * never make the next run skip an object (a tampered object could carry it).
 * So an object with no checksum of the service's own (upstream's multipart
 * uploads to S3: a composite ETag, no full-object checksum) is read again on
 * every run, at the destination only.
 */
async function byContent(context: CopyContext, object: SourceObject, info: ObjectInfo, fresh: ObjectInfo): Promise<Exclude<DestinationState, {verdict: 'absent'}>> {
  const readDestination = (md5: boolean) => hashObject(context.destination, object.key, {...retryOptions(context), md5})
  if (expectedSha256(info) === undefined && info.md5 !== undefined && !fresh.encoding) {
    const content = await readDestination(true)
    if (content.size !== info.size || content.md5 !== info.md5) return {by: MD5_REHASHED, verdict: 'different'}
    return {by: [MD5_REHASHED], verdict: 'same'}
  }
  const sha256 = await object.sha256()
  if (!fresh.encoding) {
    const bySha256 = compareContent(fresh, {...info, sha256})
    if (bySha256.verdict !== 'unknown') return bySha256
  }
  const content = await readDestination(false)
  if (content.sha256 !== sha256 || content.size !== info.size) return {by: REHASHED, verdict: 'different'}
  return {by: [REHASHED], verdict: 'same'}
}

/**
 * Streams source → sha256 check → destination write. The check fails the
 * stream before it ends when the content is not what the metadata promised,
 * so the store aborts the upload instead of publishing it.
 */
async function streamCopy(context: CopyContext, object: SourceObject, options: WriteOptions): Promise<ObjectInfo> {
  let body: Readable | undefined
  let streamError: unknown
  try {
    body = (await context.source.read(object.key, {signal: options.signal})).body
    const checking = new HashingStream({
      expect: {claimedBy: 'its metadata', consequence: 'not copied', sha256: options.sha256, size: options.size, where: object.where},
    })
    const pause = pauseMidStream('copy:mid-stream')
    const done = (error: Error | null): void => {
      if (error) streamError = error
    }
    if (pause) pipeline(body, pause, checking, done)
    else pipeline(body, checking, done)
    checking.on('error', (error) => (streamError ??= error))
    const stored = await context.destination.write(object.key, checking, options)
    if (streamError) throw streamError
    return stored
  } catch (error) {
    body?.destroy()
    // The checking stream's verdict explains a failed upload better than the SDK's wrapper of it.
    throw asArtifactError(streamError ?? error, `copying ${object.where}`)
  }
}

interface Moved {
  readonly method: CopyMethod
  /** The destination's own view of the new object, read back by the store after writing it. */
  readonly stored: ObjectInfo
}

/** Gets the bytes to the destination: from memory, server side, or streamed through this host. */
async function moveBytes(context: CopyContext, object: SourceObject, options: WriteOptions): Promise<Moved> {
  if (object.content) {
    // Bytes already read and checked (a sidecar) are written as they are, so nothing unchecked is published.
    return {method: 'from-memory', stored: await context.destination.write(object.key, object.content, options)}
  }
  const copied = await context.destination.copyWithin?.(context.source, object.key, object.key, options)
  if (copied) return {method: 'server-side', stored: copied}
  return {method: 'streamed', stored: await context.streams.run(() => streamCopy(context, object, options))}
}

/**
 * Confirms a copy from the metadata its store read back right after writing
 * (the sha256 metadata, and the service checksums against the source's), or,
 * when that holds no digest at all (a plain directory), from its content. A
 * copy that does not match is removed: a missing object is better than a wrong one.
 */
async function confirmCopy(context: CopyContext, key: string, expected: ContentFacts & {readonly sha256: string}, stored: ObjectInfo): Promise<readonly string[]> {
  const comparison = await compareStored(context.destination, stored, expected, retryOptions(context))
  if (comparison.verdict === 'same') return comparison.by
  await context.destination.remove(key).catch(() => {})
  throw new IntegrityError(`${context.destination.display}/${key} does not match its source after the copy (${comparison.by} differs): removed`)
}

/**
 * Copies one object unless the destination already holds it: decide (absent,
 * identical, different; `decided` when the caller already knows), copy
 * (server side when the destination's store can, else streamed through
 * memory with an in-flight sha256 check), then confirm. Every failure becomes
 * an outcome; nothing is thrown.
 */
export async function copyObject(context: CopyContext, object: SourceObject, decided?: DestinationState): Promise<ObjectOutcome> {
  const base = {artifact: context.artifact, destination: `${context.destination.display}/${object.key}`, key: object.key, source: object.where}
  let bytes = object.listedInfo.size
  try {
    const state = decided ?? (await destinationState(context, object, context.listed.get(object.key)))
    if (state.verdict === 'same') return {...base, action: 'skipped', bytes, checkedBy: state.by, sha256: expectedSha256(object.listedInfo)}
    if (state.verdict === 'different' && !context.force) {
      const error = new ConflictError(`${base.destination} holds different content (${state.by} differs): left untouched; rerun with --force to overwrite`)
      return {...base, action: 'conflict', bytes, error: {exitCode: error.exitCode, kind: error.kind, message: error.message}}
    }
    const info = await object.info()
    bytes = info.size
    const sha256 = await object.sha256()
    const overwrite = state.verdict === 'different'
    if (context.dryRun) return {...base, action: 'would-copy', bytes, reason: overwrite ? 'overwrite (--force)' : undefined, sha256}

    // The source service's MD5 of the content (not of gzip bytes) lets a destination that checks one stream the body.
    const md5 = info.encoding ? undefined : info.md5
    const options: WriteOptions = {executable: !isSidecarKey(object.key), precondition: overwrite ? 'any' : 'absent', sha256, size: info.size, ...(md5 ? {md5} : {})}
    let moved: Moved
    try {
      moved = await withRetry('copy', () => moveBytes(context, object, options), retryOptions(context))
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error
      // Someone wrote the key after our listing (or an earlier try of ours landed): judge what is there now.
      const now = await destinationState(context, object, await context.destination.stat(object.key))
      if (now.verdict === 'same') return {...base, action: 'skipped', bytes, checkedBy: now.by, reason: 'written concurrently', sha256}
      throw error
    }
    await pauseAt('copy:after-object')
    // In-memory content (a sidecar) is described by its own bytes: sha256 and md5, so a service's md5 confirms it without a re-read.
    const expected = object.content ? {...object.listedInfo, sha256} : {...info, sha256}
    const checkedBy = await confirmCopy(context, object.key, expected, moved.stored)
    return {...base, action: 'copied', bytes, checkedBy, method: moved.method, sha256}
  } catch (error) {
    const failure = asArtifactError(error, `copying ${object.where}`)
    const action = failure instanceof ConflictError ? 'conflict' : 'failed'
    return {...base, action, bytes, error: {exitCode: exitCodeOf(failure), kind: kindOf(failure), message: failure.message}}
  }
}
