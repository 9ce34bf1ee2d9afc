import {IntegrityError, NotFoundError} from '../../core/errors.js'
import {sidecarKey} from '../../core/keys.js'
import {SIDECAR_MAX_BYTES, type Sidecar, parseSidecar} from '../../integrity/sidecar.js'
import {type RetryOptions, withRetry} from '../../net/retry.js'
import type {Store} from '../store.js'
import {readSmall} from './read-small.js'

export interface ReadSidecarOptions extends RetryOptions {
  /** A missing sidecar is undefined instead of an IntegrityError. */
  readonly optional?: boolean
}

export interface StoredSidecar extends Sidecar {
  /** The exact bytes read, for copying them unchanged. */
  readonly content: Buffer
}

/**
 * The sidecar of the binary at `key`: read (at most 4 KiB, retried), parsed,
 * and required to name `file` when it names one. Every caller reads sidecars
 * through here, so they all accept and refuse the same things.
 */
export function readSidecar(store: Store, key: string, file: string, options: ReadSidecarOptions & {optional: true}): Promise<StoredSidecar | undefined>
export function readSidecar(store: Store, key: string, file: string, options?: ReadSidecarOptions): Promise<StoredSidecar>
export async function readSidecar(store: Store, key: string, file: string, options: ReadSidecarOptions = {}): Promise<StoredSidecar | undefined> {
  const sidecar = sidecarKey(key)
  const where = `${store.display}/${sidecar}`
  let content: Buffer
  try {
    content = await withRetry('sidecar download', () => readSmall(store, sidecar, SIDECAR_MAX_BYTES), options)
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error
    if (options.optional) return undefined
    throw new IntegrityError(`sidecar ${where} is missing`, {cause: error})
  }
  return {...parseSidecar(content, where, file), content}
}
