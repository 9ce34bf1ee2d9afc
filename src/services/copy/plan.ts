import {isSidecarKey, keyOfSidecar, sidecarKey} from '../../core/keys.js'
import type {ObjectInfo} from '../../stores/store.js'

/**
 * A unit of copy work, run in one pool slot: an object, and its sidecar when
 * the source holds one. Keeping the pair in one unit is what makes every
 * `X.sha256` wait until `X` is copied and verified.
 */
export interface CopyUnit {
  readonly object: ObjectInfo
  readonly sidecar?: ObjectInfo
}

export interface CopyPlan {
  readonly units: readonly CopyUnit[]
  /** Sidecars with no object next to them: copied as plain objects, and reported. */
  readonly orphanSidecars: readonly string[]
}

/**
 * Groups every listed object, whatever its layout (`{version}/{arch}/{file}`,
 * legacy `{version}/{file}`, or anything else under the prefix), into units.
 * `X.sha256` is X's sidecar whenever X is listed too.
 */
export function planCopies(objects: Iterable<ObjectInfo>): CopyPlan {
  const byKey = new Map<string, ObjectInfo>()
  for (const object of objects) byKey.set(object.key, object)
  const units: CopyUnit[] = []
  const orphanSidecars: string[] = []
  for (const [key, object] of byKey) {
    if (isSidecarKey(key) && byKey.has(keyOfSidecar(key))) continue
    if (isSidecarKey(key)) orphanSidecars.push(key)
    const sidecar = byKey.get(sidecarKey(key))
    units.push(sidecar ? {object, sidecar} : {object})
  }
  // Largest first: long copies start early, so the pool does not end waiting on one big object.
  units.sort((a, b) => b.object.size - a.object.size || a.object.key.localeCompare(b.object.key))
  return {orphanSidecars: orphanSidecars.sort(), units}
}
