import {readFileSync} from 'node:fs'

import {type Arch, type Artifact} from '../core/catalog.js'
import {versionMarker} from './binary-checks.js'
import {BinaryScanner, type ScannedIdentity} from './binary-scanner.js'
import {ELF_MACHINE} from './elf.js'

/**
 * Whether a local file is the requested version and arch of an artifact, not
 * merely a file that matches its own sidecar (a Makefile with a fixed --out
 * and a bumped version must get the new binary). Content decides where it
 * can: the ELF machine gives the arch of busybox and Firecracker, and BusyBox
 * names its version in its banner. What content cannot tell (a kernel's arch
 * and version, Firecracker's version) comes from the origin record that fetch
 * writes next to the file at install, `PATH.origin`, which also names the
 * sha256 it was written for, so it cannot vouch for other bytes.
 */

export const ORIGIN_SUFFIX = '.origin'
const ORIGIN_MAX_BYTES = 4096

export interface Wanted {
  readonly artifact: Artifact
  readonly version: string
  readonly arch: Arch
}

export interface OriginRecord {
  readonly artifact: string
  readonly version: string
  readonly arch: string
  readonly sha256: string
}

/** What the origin record must vouch for, because the content cannot. */
function needsOrigin(wanted: Wanted): boolean {
  return !wanted.artifact.elf || versionMarker(wanted.artifact, wanted.version) === undefined
}

/** The scanner to feed with the file's chunks while it is hashed. */
export function identityScanner(wanted: Wanted): BinaryScanner {
  return new BinaryScanner(versionMarker(wanted.artifact, wanted.version))
}

/** The origin record to write at install, or undefined when the content identifies itself. */
export function originRecordFor(wanted: Wanted, sha256: string): string | undefined {
  if (!needsOrigin(wanted)) return undefined
  const record: OriginRecord = {arch: wanted.arch, artifact: wanted.artifact.name, sha256, version: wanted.version}
  return `${JSON.stringify(record)}\n`
}

/**
 * The origin record next to `filePath`, when one is needed and it names the
 * wanted artifact, version and arch; undefined when it is needed and absent,
 * unreadable or about something else (so the caller fetches again); `true`
 * when none is needed.
 */
export function readOrigin(filePath: string, wanted: Wanted): OriginRecord | true | undefined {
  if (!needsOrigin(wanted)) return true
  try {
    const text = readFileSync(`${filePath}${ORIGIN_SUFFIX}`)
    if (text.length > ORIGIN_MAX_BYTES) return undefined
    const record = JSON.parse(text.toString('utf8')) as Partial<OriginRecord>
    const fits = record.artifact === wanted.artifact.name && record.version === wanted.version && record.arch === wanted.arch && typeof record.sha256 === 'string'
    return fits ? (record as OriginRecord) : undefined
  } catch {
    return undefined
  }
}

/** Whether the scanned content (and the origin record, where needed) is the wanted version and arch with digest `sha256`. */
export function isWanted(scanned: ScannedIdentity, origin: OriginRecord | true, sha256: string, wanted: Wanted): boolean {
  if (origin !== true && origin.sha256 !== sha256) return false
  if (wanted.artifact.elf && scanned.machine !== ELF_MACHINE[wanted.arch]) return false
  return versionMarker(wanted.artifact, wanted.version) === undefined || scanned.hasMarker
}
