import {createReadStream} from 'node:fs'
import type {Readable} from 'node:stream'

import {ConflictError, IntegrityError} from '../core/errors.js'
import {sha256Hex} from '../integrity/hash.js'
import {SIDECAR_MAX_BYTES, formatSidecar, parseSidecar} from '../integrity/sidecar.js'
import {readSmall} from '../stores/read-small.js'
import type {Store} from '../stores/store.js'
import {type ExpectedContent, compareObject} from './object-digest.js'
import {withRetry} from './retry.js'

/** What to publish: a verified local file and where it goes. */
export interface PublishItem {
  /** The staged, verified file. */
  readonly path: string
  readonly sha256: string
  readonly size: number
  /** Base64 MD5 of the file, to check a service-computed md5 on read-back. */
  readonly md5: string
  /** Destination key of the binary; the sidecar is `{key}.sha256`. */
  readonly key: string
  /** File name written inside the sidecar (`sha256sum busybox > busybox.sha256`). */
  readonly fileName: string
}

/** What the destination already holds, and so which keys a publish must write. */
export interface PublishPlan {
  readonly binary: 'absent' | 'identical' | 'different'
  readonly sidecar: 'absent' | 'agrees' | 'disagrees'
  /** Keys to write, binary first. Empty when already published. */
  readonly writes: readonly string[]
  /** Whether the writes replace different content (only with --force). */
  readonly replaces: boolean
}

const sidecarOf = (key: string): string => `${key}.sha256`

function sidecarBytes(item: PublishItem): Buffer {
  return Buffer.from(formatSidecar(item.sha256, item.fileName))
}

async function sidecarState(store: Store, item: PublishItem): Promise<{state: PublishPlan['sidecar']; says?: string}> {
  const key = sidecarOf(item.key)
  if (!(await store.stat(key))) return {state: 'absent'}
  const where = `${store.display}/${key}`
  const content = await withRetry('sidecar read', () => readSmall(store, key, SIDECAR_MAX_BYTES))
  try {
    const {sha256} = parseSidecar(content, where, item.fileName)
    return sha256 === item.sha256 ? {state: 'agrees'} : {says: `says ${sha256}`, state: 'disagrees'}
  } catch (error) {
    // A malformed sidecar is not ours to silently fix: it is a conflict like any other difference.
    return {says: `is not a valid sidecar (${(error as Error).message})`, state: 'disagrees'}
  }
}

/**
 * Looks at the destination before anything is written. Identical content is
 * "already published"; different content (binary or sidecar) is a conflict
 * unless `force`, and then nothing at all is written.
 */
export async function planPublish(store: Store, item: PublishItem, force: boolean): Promise<PublishPlan> {
  const where = `${store.display}/${item.key}`
  const existing = await store.stat(item.key)
  const comparison = existing ? await compareObject(store, existing, item) : undefined
  const binary: PublishPlan['binary'] = !comparison ? 'absent' : comparison.same ? 'identical' : 'different'
  const sidecar = await sidecarState(store, item)
  if (!force) {
    if (binary === 'different') {
      const theirs = comparison?.sha256 ? `sha256 ${comparison.sha256}` : `${existing?.size} bytes`
      throw new ConflictError(
        `${where} already holds different content (${theirs}; publishing sha256 ${item.sha256}, ${item.size} bytes): nothing written; pass --force to replace it`,
      )
    }
    if (sidecar.state === 'disagrees') {
      throw new ConflictError(`${where}.sha256 ${sidecar.says}, not ${item.sha256}: nothing written; pass --force to replace it`)
    }
  }
  const writes = [...(binary === 'identical' ? [] : [item.key]), ...(sidecar.state === 'agrees' ? [] : [sidecarOf(item.key)])]
  return {binary, replaces: binary === 'different' || sidecar.state === 'disagrees', sidecar: sidecar.state, writes}
}

/**
 * One write, retried on transient failures. A precondition failure after a
 * lost response (or a concurrent identical upload) is success when the
 * object now holds exactly our content.
 */
async function writeOnce(store: Store, key: string, body: () => Buffer | Readable, expected: ExpectedContent, force: boolean): Promise<void> {
  try {
    await withRetry('upload', () =>
      store.write(key, body(), {precondition: force ? 'any' : 'absent', sha256: expected.sha256, size: expected.size}),
    )
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error
    const now = await store.stat(key)
    if (!now || !(await compareObject(store, now, expected)).same) throw error
  }
}

/** Reads the binary back (metadata, or content when the store keeps no sha256) and compares. */
async function checkPublishedBinary(store: Store, item: PublishItem): Promise<void> {
  const where = `${store.display}/${item.key}`
  const info = await store.stat(item.key)
  if (!info) throw new IntegrityError(`${where} is missing right after it was published`)
  const comparison = await compareObject(store, info, item)
  if (!comparison.same) {
    throw new IntegrityError(`${where} reads back as ${info.size} bytes, sha256 ${comparison.sha256 ?? 'unknown'}; expected ${item.size} bytes, sha256 ${item.sha256}`)
  }
}

async function checkPublishedSidecar(store: Store, item: PublishItem): Promise<void> {
  const key = sidecarOf(item.key)
  const content = await withRetry('read-back', () => readSmall(store, key, SIDECAR_MAX_BYTES))
  if (!content.equals(sidecarBytes(item))) throw new IntegrityError(`${store.display}/${key} does not read back as written`)
}

/**
 * Carries out a plan: the binary first (then read back), then its sidecar
 * (then read back), so a sidecar never announces a binary that is not there.
 */
export async function executePlan(store: Store, item: PublishItem, plan: PublishPlan, force: boolean): Promise<void> {
  if (plan.writes.includes(item.key)) {
    await writeOnce(store, item.key, () => createReadStream(item.path, {highWaterMark: 1 << 20}), item, force)
    await checkPublishedBinary(store, item)
  }
  const sidecarKey = sidecarOf(item.key)
  if (plan.writes.includes(sidecarKey)) {
    const bytes = sidecarBytes(item)
    await writeOnce(store, sidecarKey, () => bytes, {sha256: sha256Hex(bytes), size: bytes.length}, force)
    await checkPublishedSidecar(store, item)
  }
}
