import type {Arch, Artifact} from '../../core/catalog.js'
import {parseArtifactKey} from '../../core/keys.js'
import type {ObjectInfo} from '../../stores/store.js'

/**
 * One `{version}/{arch}/{file}` (or legacy `{version}/{file}`) slot and what a
 * location holds there; companion files have slots of their own.
 */
export interface Slot {
  readonly version: string
  readonly arch?: Arch
  /** Key of the binary relative to the artifact root. */
  readonly key: string
  /** The binary's file name: the artifact's file or one of its companions (vmlinux.debug, ...). */
  readonly file: string
  binary?: ObjectInfo
  sidecar?: ObjectInfo
}

export interface Grouped {
  readonly slots: Slot[]
  /** Keys that fit no slot: neither the artifact's file nor its sidecar. */
  readonly unexpected: string[]
}

/** Groups listed objects into slots, each with its binary and sidecar. */
export function groupObjects(artifact: Artifact, objects: Iterable<ObjectInfo>): Grouped {
  const slots = new Map<string, Slot>()
  const unexpected: string[] = []
  for (const object of objects) {
    const parsed = parseArtifactKey(artifact, object.key)
    if (!parsed) {
      unexpected.push(object.key)
      continue
    }
    const slot = slots.get(parsed.binaryKey) ?? {arch: parsed.arch, file: parsed.file, key: parsed.binaryKey, version: parsed.version}
    if (parsed.sidecar) slot.sidecar = object
    else slot.binary = object
    slots.set(parsed.binaryKey, slot)
  }
  return {slots: [...slots.values()].sort((a, b) => a.key.localeCompare(b.key)), unexpected: unexpected.sort()}
}
