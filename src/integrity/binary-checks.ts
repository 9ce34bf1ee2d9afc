import {createReadStream} from 'node:fs'

import type {Arch, Artifact} from '../core/catalog.js'
import {IntegrityError} from '../core/errors.js'
import {checkElfArch, checkStatic, withFileReader} from './elf.js'

/** The checks a binary passed, in the order they ran (reported in results). */
export type BinaryCheck = 'elf-machine' | 'static' | 'version-string'

/**
 * The string a build of `version` must contain, for artifacts that embed one.
 * BusyBox's banner is "BusyBox v1.36.1 (…) multi-call binary."; the trailing
 * space keeps v1.36.1 from matching a v1.36.10 build.
 */
export function versionMarker(artifact: Artifact, version: string): string | undefined {
  return artifact.name === 'busybox' ? `BusyBox v${version} ` : undefined
}

function chunksOf(file: string): AsyncIterable<Buffer> {
  return createReadStream(file, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>
}

/** The BusyBox version a binary announces, for a helpful message when it is not the expected one. */
async function announcedBusyboxVersion(file: string): Promise<string | undefined> {
  const pattern = /BusyBox v([0-9][0-9A-Za-z._+-]{0,63}) /
  let carry = ''
  for await (const chunk of chunksOf(file)) {
    const window = carry + chunk.toString('latin1')
    const match = pattern.exec(window)
    if (match) return match[1]
    carry = window.slice(-80)
  }
  return undefined
}

export interface BinaryFacts {
  readonly artifact: Artifact
  readonly version: string
  readonly arch: Arch
}

/** A staged file and what the staging pass learnt of it. */
export interface StagedContent {
  readonly path: string
  /** The first 64 bytes, for the ELF header. */
  readonly head: Buffer
  readonly size: number
  /** Whether the version marker occurs in it (see versionMarker), as found while it was staged. */
  readonly hasMarker?: boolean
}

/**
 * Checks a staged binary before it may be published: its ELF machine matches
 * the arch, it is statically linked, and it names the version it is published
 * as (`hasMarker`, looked for while it was staged).
 */
export async function checkBinary(file: StagedContent, facts: BinaryFacts, where: string): Promise<BinaryCheck[]> {
  const {arch, artifact, version} = facts
  if (file.size === 0) throw new IntegrityError(`${where} is empty`)
  const passed: BinaryCheck[] = []
  if (artifact.elf) {
    const header = checkElfArch(file.head, arch, where)
    passed.push('elf-machine')
    await withFileReader(file.path, (readAt) => checkStatic(header, readAt, where))
    passed.push('static')
  }
  if (await checkVersionBanner(file, artifact, version, where)) passed.push('version-string')
  return passed
}

/**
 * Checks that a staged binary names `version` (`hasMarker`, found while it was
 * staged); the error names the version it announces instead. False when the
 * artifact carries no banner to check.
 */
export async function checkVersionBanner(file: StagedContent, artifact: Artifact, version: string, where: string): Promise<boolean> {
  const marker = versionMarker(artifact, version)
  if (!marker) return false
  if (file.hasMarker === true) return true
  const announced = await announcedBusyboxVersion(file.path)
  const actually = announced ? `it is BusyBox ${announced}` : 'it carries no BusyBox version banner'
  throw new IntegrityError(`${where} does not contain '${marker.trim()}': ${actually}; check --version and the source`)
}
