import {createReadStream} from 'node:fs'
import type {Readable} from 'node:stream'

import {ConflictError, IntegrityError} from '../../core/errors.js'
import {sidecarKey} from '../../core/keys.js'
import {pauseAt} from '../../core/test-pause.js'
import {expectedSha256} from '../../integrity/content-identity.js'
import {sha256Hex} from '../../integrity/hash.js'
import {SIDECAR_MAX_BYTES, formatSidecar} from '../../integrity/sidecar.js'
import {withRetry} from '../../net/retry.js'
import {compareStored} from '../../stores/ops/compare-stored.js'
import {readSidecar} from '../../stores/ops/read-sidecar.js'
import {readSmall} from '../../stores/ops/read-small.js'
import type {ObjectInfo, Store} from '../../stores/store.js'

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

interface ExpectedContent {
  readonly sha256: string
  readonly size: number
  readonly md5?: string
}

function sidecarBytes(item: PublishItem): Buffer {
  return Buffer.from(formatSidecar(item.sha256, item.fileName))
}

async function sidecarState(store: Store, item: PublishItem): Promise<{state: PublishPlan['sidecar']; says?: string}> {
  if (!(await store.stat(sidecarKey(item.key)))) return {state: 'absent'}
  try {
    const sidecar = await readSidecar(store, item.key, item.fileName)
    return sidecar.sha256 === item.sha256 ? {state: 'agrees'} : {says: `says ${sidecar.sha256}`, state: 'disagrees'}
  } catch (error) {
    // A malformed sidecar is not ours to silently fix: it is a conflict like any other difference.
    if (!(error instanceof IntegrityError)) throw error
    return {says: `is not a valid sidecar (${error.message})`, state: 'disagrees'}
  }
}

async function isIdentical(store: Store, existing: ObjectInfo, expected: ExpectedContent): Promise<boolean> {
  return (await compareStored(store, existing, expected)).verdict === 'same'
}

/**
 * Looks at the destination before anything is written. Identical content is
 * "already published"; different content (binary or sidecar) is a conflict
 * unless `force`, and then nothing at all is written.
 */
export async function planPublish(store: Store, item: PublishItem, force: boolean): Promise<PublishPlan> {
  const where = `${store.display}/${item.key}`
  const existing = await store.stat(item.key)
  const binary: PublishPlan['binary'] = !existing ? 'absent' : (await isIdentical(store, existing, item)) ? 'identical' : 'different'
  const sidecar = await sidecarState(store, item)
  if (!force) {
    if (binary === 'different') {
      const recorded = existing && expectedSha256(existing)
      const theirs = recorded ? `sha256 ${recorded}` : `${existing?.size} bytes`
      throw new ConflictError(
        `${where} already holds different content (${theirs}; publishing sha256 ${item.sha256}, ${item.size} bytes): nothing written; pass --force to replace it`,
      )
    }
    if (sidecar.state === 'disagrees') {
      throw new ConflictError(`${where}.sha256 ${sidecar.says}, not ${item.sha256}: nothing written; pass --force to replace it`)
    }
  }
  const writes = [...(binary === 'identical' ? [] : [item.key]), ...(sidecar.state === 'agrees' ? [] : [sidecarKey(item.key)])]
  return {binary, replaces: binary === 'different' || sidecar.state === 'disagrees', sidecar: sidecar.state, writes}
}

/**
 * One write, retried on transient failures; returns the store's view of the
 * object it wrote. A precondition failure after a lost response (or a
 * concurrent identical upload) is success when the object now holds exactly
 * our content.
 */
async function writeOnce(store: Store, key: string, body: () => Buffer | Readable, expected: ExpectedContent, force: boolean): Promise<ObjectInfo> {
  try {
    return await withRetry('upload', () => store.write(key, body(), {precondition: force ? 'any' : 'absent', sha256: expected.sha256, size: expected.size}))
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error
    const now = await store.stat(key)
    if (!now || !(await isIdentical(store, now, expected))) throw error
    return now
  }
}

/** Checks the binary as the store read it back right after writing it (metadata, or content when the store keeps no digest). */
async function checkPublishedBinary(store: Store, item: PublishItem, stored: ObjectInfo): Promise<void> {
  const comparison = await compareStored(store, stored, item)
  if (comparison.verdict !== 'same') {
    const where = `${store.display}/${item.key}`
    throw new IntegrityError(`${where} reads back as ${stored.size} bytes, sha256 ${expectedSha256(stored) ?? 'unknown'} (${comparison.by} differs); expected ${item.size} bytes, sha256 ${item.sha256}`)
  }
}

async function checkPublishedSidecar(store: Store, item: PublishItem): Promise<void> {
  const key = sidecarKey(item.key)
  const content = await withRetry('read-back', () => readSmall(store, key, SIDECAR_MAX_BYTES))
  if (!content.equals(sidecarBytes(item))) throw new IntegrityError(`${store.display}/${key} does not read back as written`)
}

/**
 * After publishing without --force: the binary must still be ours. A store
 * whose "only if absent" is not atomic with the write (versitygw checks
 * If-None-Match before it receives the body) can let a concurrent upload of
 * other content replace it after our read-back; then our sidecar no longer
 * describes it and is withdrawn (only if it still holds our bytes), and this
 * upload lost: a conflict. GCS and S3 decide such races atomically.
 */
async function checkStillPublished(store: Store, item: PublishItem): Promise<void> {
  const now = await store.stat(item.key)
  if (now && (await isIdentical(store, now, item))) return
  const key = sidecarKey(item.key)
  const ours = await withRetry('read-back', () => readSmall(store, key, SIDECAR_MAX_BYTES)).catch(() => undefined)
  if (ours?.equals(sidecarBytes(item))) await store.remove(key)
  throw new ConflictError(
    `${store.display}/${item.key} was replaced by a concurrent upload of different content while this one was publishing: ${ours?.equals(sidecarBytes(item)) ? 'its sidecar was withdrawn, and ' : ''}nothing of this upload remains`,
  )
}

/** How long a sidecar that no longer describes the binary in place may take to be withdrawn by the upload that lost. */
const WITHDRAWAL_WAIT_MS = 3000

/**
 * Writes the sidecar, only if absent. Another sidecar in the way while the
 * binary in place is ours belongs to a concurrent upload whose binary was
 * replaced by ours (possible only where "only if absent" is not atomic, see
 * checkStillPublished): that upload withdraws it, so it is waited for, briefly.
 */
async function publishSidecar(store: Store, item: PublishItem, force: boolean): Promise<void> {
  const key = sidecarKey(item.key)
  const bytes = sidecarBytes(item)
  const write = (): Promise<ObjectInfo> => writeOnce(store, key, () => bytes, {sha256: sha256Hex(bytes), size: bytes.length}, force)
  try {
    await write()
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error
    const binary = await store.stat(item.key)
    if (!binary || !(await isIdentical(store, binary, item))) throw error
    for (const started = Date.now(); Date.now() - started < WITHDRAWAL_WAIT_MS; ) {
      await new Promise((resolve) => {
        setTimeout(resolve, 100)
      })
      if (!(await store.stat(key))) {
        await write()
        return
      }
    }
    throw error
  }
}

/**
 * Carries out a plan: the binary first (then read back), then its sidecar
 * (then read back), so a sidecar never announces a binary that is not there;
 * then, unless forced, a last look that the binary is still ours.
 */
export async function executePlan(store: Store, item: PublishItem, plan: PublishPlan, force: boolean): Promise<void> {
  if (plan.writes.includes(item.key)) {
    const stored = await writeOnce(store, item.key, () => createReadStream(item.path, {highWaterMark: 1 << 20}), item, force)
    await checkPublishedBinary(store, item, stored)
    await pauseAt('upload:after-binary')
  }
  if (plan.writes.includes(sidecarKey(item.key))) {
    await publishSidecar(store, item, force)
    await checkPublishedSidecar(store, item)
  }
  if (plan.writes.length > 0 && !force) await checkStillPublished(store, item)
}
