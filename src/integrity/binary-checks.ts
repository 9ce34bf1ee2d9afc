import {createReadStream} from 'node:fs'

import type {Arch, Artifact} from '../core/catalog.js'
import {IntegrityError} from '../core/errors.js'
import {checkElfArch, checkStatic, streamContains, withFileReader} from './elf.js'

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

/**
 * Checks a staged binary before it may be published: its ELF machine matches
 * the arch, it is statically linked, and it names the version it is published
 * as. `head` holds the file's first 64 bytes (kept while staging).
 */
export async function checkBinary(file: string, head: Buffer, size: number, facts: BinaryFacts, where: string): Promise<BinaryCheck[]> {
  const {arch, artifact, version} = facts
  if (size === 0) throw new IntegrityError(`${where} is empty`)
  const passed: BinaryCheck[] = []
  if (artifact.elf) {
    const header = checkElfArch(head, arch, where)
    passed.push('elf-machine')
    await withFileReader(file, (readAt) => checkStatic(header, readAt, where))
    passed.push('static')
  }
  if (await checkVersionMarker(file, artifact, version, where)) passed.push('version-string')
  return passed
}

/**
 * Checks that a binary names the version it is published or installed as,
 * for artifacts that embed one; returns whether there was a marker to check.
 */
export async function checkVersionMarker(file: string, artifact: Artifact, version: string, where: string): Promise<boolean> {
  const marker = versionMarker(artifact, version)
  if (!marker) return false
  if (!(await streamContains(chunksOf(file), marker))) throw await wrongVersion(file, marker, where)
  return true
}

/** The error for a binary at `file` that lacks `marker`, naming the version it announces instead. */
export async function wrongVersion(file: string, marker: string, where: string): Promise<IntegrityError> {
  const announced = await announcedBusyboxVersion(file)
  const actually = announced ? `it is BusyBox ${announced}` : 'it carries no BusyBox version banner'
  return new IntegrityError(`${where} does not contain '${marker.trim()}': ${actually}; check --version and the source`)
}
