import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {IntegrityError, UsageError} from '../core/errors.js'

/** Sidecars are tiny; anything larger is not a sidecar. */
export const SIDECAR_MAX_BYTES = 4096

const HEX64 = /^[0-9a-fA-F]{64}$/
const LINE = /^([0-9a-fA-F]{64})(?: [ *](.+))?$/

export interface Sidecar {
  readonly sha256: string
  /** The file name the sidecar names, when it names one. */
  readonly name?: string
}

/**
 * Parses `sha256sum` output for one file: `<hex>  <name>`, `<hex> *<name>`, or
 * a bare `<hex>`, in any case. `where` names the sidecar in error messages.
 * When `expectedName` is given, a sidecar naming another file is rejected.
 */
export function parseSidecar(content: Buffer | string, where: string, expectedName?: string): Sidecar {
  const buffer = typeof content === 'string' ? Buffer.from(content) : content
  if (buffer.length > SIDECAR_MAX_BYTES) {
    throw new IntegrityError(`sidecar ${where} is larger than ${SIDECAR_MAX_BYTES} bytes: not a sha256sum file`)
  }
  const text = buffer.toString('utf8').replace(/^\uFEFF/, '')
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '')
  if (lines.length !== 1) {
    throw new IntegrityError(`sidecar ${where} must hold exactly one 'sha256  file' line, found ${lines.length}`)
  }
  const line = lines[0]!.trim()
  const match = LINE.exec(line)
  if (!match) {
    throw new IntegrityError(`sidecar ${where} is malformed: expected '<64 hex digits>  <file>'`)
  }
  const sha256 = match[1]!.toLowerCase()
  const name = match[2]?.replace(/^\.\//, '')
  if (name !== undefined && expectedName !== undefined && name !== expectedName) {
    throw new IntegrityError(`sidecar ${where} names '${name}', not '${expectedName}'`)
  }
  return name === undefined ? {sha256} : {name, sha256}
}

/** The canonical sidecar text, as `sha256sum file > file.sha256` writes it. */
export function formatSidecar(sha256: string, name: string): string {
  return `${normalizeDigest(sha256, 'digest')}  ${name}\n`
}

/** Validates a digest from a flag or an API and returns it in lowercase hex. */
export function normalizeDigest(input: string, where: string): string {
  const hex = input.trim().replace(/^sha256:/i, '')
  if (!HEX64.test(hex)) throw new IntegrityError(`${where} is not a sha256 digest (64 hex digits): '${input.slice(0, 80)}'`)
  return hex.toLowerCase()
}

/** A digest given on the command line (`--sha256`): a usage error, not an integrity one, when malformed. */
export function parsePin(value: string, flag: string): string {
  try {
    return normalizeDigest(value, flag)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/**
 * The sidecar next to a local file (`PATH.sha256`), read synchronously with
 * the same 4 KiB limit as any other sidecar. Undefined when there is none; a
 * sidecar that is not a regular file, too large, or malformed throws IntegrityError.
 */
export function readSidecarFile(filePath: string): Sidecar | undefined {
  const sidecarPath = `${filePath}.sha256`
  let info
  try {
    info = statSync(sidecarPath)
  } catch {
    return undefined
  }
  if (!info.isFile()) throw new IntegrityError(`sidecar ${sidecarPath} is not a regular file`)
  if (info.size > SIDECAR_MAX_BYTES) throw new IntegrityError(`sidecar ${sidecarPath} is larger than ${SIDECAR_MAX_BYTES} bytes: not a sha256sum file`)
  return parseSidecar(readFileSync(sidecarPath), sidecarPath, path.basename(filePath))
}
