import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream'

import type {ArtifactName} from '../core/catalog.js'
import {ArtifactError, ConflictError, IntegrityError, OperationalError, exitCodeOf, kindOf} from '../core/errors.js'
import {classifyNetworkError} from '../net/http-client.js'
import type {ObjectInfo, Store, WriteOptions} from '../stores/store.js'
import {type Comparison, type Digest, compareObjects, sameByEtag} from './compare-objects.js'
import type {Limiter} from './pool.js'
import {withRetry} from './retry.js'
import type {SourceObject} from './source-object.js'
import {hashObject} from './object-digest.js'
import {VerifyingStream} from './verifying-stream.js'

export type CopyAction = 'copied' | 'skipped' | 'conflict' | 'failed' | 'would-copy' | 'held'

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
  readonly onRetry?: (message: string) => void
}

/** Named in reports when a digest had to be computed by reading the content. */
const REHASHED = 'sha256 (rehashed)'

export type DestinationState = {readonly kind: 'absent'} | {readonly kind: 'same'; readonly by: readonly string[]} | {readonly kind: 'different'; readonly by: string}

function retryOptions(context: CopyContext): {onRetry: (error: Error, attempt: number, delayMs: number) => void} {
  return {onRetry: (error, attempt, delayMs) => context.onRetry?.(`${error.message}; retrying (try ${attempt + 1}) in ${Math.round(delayMs)} ms`)}
}

function asArtifactError(error: unknown, what: string): ArtifactError {
  const classified = classifyNetworkError(error, what)
  return classified instanceof ArtifactError ? classified : new OperationalError(`${what}: ${classified.message}`, {cause: error})
}

function fromComparison(comparison: Exclude<Comparison, {verdict: 'unknown'}>): DestinationState {
  return comparison.verdict === 'same' ? {by: comparison.by, kind: 'same'} : {by: comparison.by, kind: 'different'}
}

/**
 * Whether the destination holds this content, given what a listing or stat
 * said about it (`known`; undefined means absent). Cheapest evidence first:
 * the digests both listings carry (or an S3 ETag that confirms an MD5); then
 * the source's full metadata (a stat, for listings without it) and a fresh
 * stat of the destination, against the source's sha256 (streamed when it has
 * no metadata); last, the destination streamed through sha256 too. Size alone
 * never makes two objects the same.
 */
export async function destinationState(context: CopyContext, object: SourceObject, known: ObjectInfo | undefined): Promise<DestinationState> {
  if (!known) return {kind: 'absent'}
  const fromListings = compareObjects(object.listedInfo, known)
  if (fromListings.verdict !== 'unknown') return fromComparison(fromListings)
  if (sameByEtag(object.listedInfo, context.source.provider, known, context.destination.provider)) return {by: ['md5 (ETag)'], kind: 'same'}
  const info = await object.info()
  const fresh = await context.destination.stat(object.key)
  if (!fresh) return {kind: 'absent'}
  const byMetadata = compareObjects({...info, sha256: await object.sha256()}, fresh)
  if (byMetadata.verdict !== 'unknown') return fromComparison(byMetadata)
  const rehashed = await withRetry('hashing', () => hashObject(context.destination, object.key), retryOptions(context))
  const byContent = compareObjects({sha256: await object.sha256(), size: info.size}, rehashed)
  return byContent.verdict === 'same' ? {by: [REHASHED], kind: 'same'} : {by: REHASHED, kind: 'different'}
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
    const verifying = new VerifyingStream({sha256: options.sha256, size: options.size}, object.where)
    pipeline(body, verifying, (error) => {
      if (error) streamError = error
    })
    verifying.on('error', (error) => (streamError ??= error))
    const stored = await context.destination.write(object.key, verifying, options)
    if (streamError) throw streamError
    return stored
  } catch (error) {
    body?.destroy()
    // The verifying stream's verdict explains a failed upload better than the SDK's wrapper of it.
    throw asArtifactError(streamError ?? error, `copying ${object.where}`)
  }
}

interface Transferred {
  readonly method: CopyMethod
  /** The destination's own view of the new object, read back by the store after writing it. */
  readonly stored: ObjectInfo
}

async function transfer(context: CopyContext, object: SourceObject, options: WriteOptions): Promise<Transferred> {
  if (object.content) {
    // Bytes already read and checked (a sidecar) are written as they are, so nothing unchecked is published.
    return {method: 'from-memory', stored: await context.destination.write(object.key, object.content, options)}
  }
  const copied = await context.destination.copyWithin?.(context.source, object.key, object.key, options)
  if (copied) return {method: 'server-side', stored: copied}
  return {method: 'streamed', stored: await context.streams.run(() => streamCopy(context, object, options))}
}

function mismatch(where: string, by: string): IntegrityError {
  return new IntegrityError(`${where} does not match its source after the copy (${by} differs): removed`)
}

/**
 * Checks the destination after a copy, from the metadata its store read back
 * right after writing: the sha256 metadata against the expected digest, and
 * the service checksums (crc32c, md5) against the source's. When that holds no
 * digest at all (a plain directory), the content is hashed.
 */
async function verifyCopy(context: CopyContext, key: string, expected: Pick<ObjectInfo, Digest | 'size'>, stored: ObjectInfo): Promise<readonly string[]> {
  const where = `${context.destination.display}/${key}`
  const comparison = compareObjects(expected, stored)
  if (comparison.verdict === 'same') return comparison.by
  if (comparison.verdict === 'different') throw mismatch(where, comparison.by)
  const content = await withRetry('verification', () => hashObject(context.destination, key), retryOptions(context))
  if (compareObjects({sha256: expected.sha256, size: expected.size}, content).verdict !== 'same') throw mismatch(where, REHASHED)
  return [REHASHED]
}

/** A copied object that fails verification is removed: a missing object is better than a wrong one. */
async function verifyOrRemove(context: CopyContext, key: string, expected: Pick<ObjectInfo, Digest | 'size'>, stored: ObjectInfo): Promise<readonly string[]> {
  try {
    return await verifyCopy(context, key, expected, stored)
  } catch (error) {
    if (error instanceof IntegrityError) await context.destination.remove(key).catch(() => {})
    throw error
  }
}

/**
 * Copies one object unless the destination already holds it: decide (absent,
 * identical, different; `decided` when the caller already knows), copy
 * (server side when the destination's store can, else streamed through
 * memory with an in-flight sha256 check), then verify. Every failure becomes
 * an outcome; nothing is thrown.
 */
export async function copyObject(context: CopyContext, object: SourceObject, decided?: DestinationState): Promise<ObjectOutcome> {
  const base = {artifact: context.artifact, destination: `${context.destination.display}/${object.key}`, key: object.key, source: object.where}
  let bytes = object.listedInfo.size
  try {
    const state = decided ?? (await destinationState(context, object, context.listed.get(object.key)))
    if (state.kind === 'same') return {...base, action: 'skipped', bytes, checkedBy: state.by, sha256: object.listedInfo.sha256}
    if (state.kind === 'different' && !context.force) {
      const error = new ConflictError(`${base.destination} holds different content (${state.by} differs): left untouched; rerun with --force to overwrite`)
      return {...base, action: 'conflict', bytes, error: {exitCode: error.exitCode, kind: error.kind, message: error.message}}
    }
    const info = await object.info()
    bytes = info.size
    const sha256 = await object.sha256()
    if (context.dryRun) return {...base, action: 'would-copy', bytes, reason: state.kind === 'different' ? 'overwrite (--force)' : undefined, sha256}

    const options: WriteOptions = {precondition: state.kind === 'absent' ? 'absent' : 'any', sha256, size: info.size}
    let transferred: Transferred
    try {
      transferred = await withRetry('copy', () => transfer(context, object, options), retryOptions(context))
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error
      // Someone wrote the key after our listing (or an earlier try of ours landed): judge what is there now.
      const now = await destinationState(context, object, await context.destination.stat(object.key))
      if (now.kind === 'same') return {...base, action: 'skipped', bytes, checkedBy: now.by, reason: 'written concurrently', sha256}
      throw error
    }
    const expected = object.content ? {sha256, size: info.size} : {...info, sha256}
    const checkedBy = await verifyOrRemove(context, object.key, expected, transferred.stored)
    return {...base, action: 'copied', bytes, checkedBy, method: transferred.method, sha256}
  } catch (error) {
    const failure = asArtifactError(error, `copying ${object.where}`)
    const action = failure instanceof ConflictError ? 'conflict' : 'failed'
    return {...base, action, bytes, error: {exitCode: exitCodeOf(failure), kind: kindOf(failure), message: failure.message}}
  }
}
