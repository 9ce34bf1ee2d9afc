import {createHash} from 'node:crypto'
import {type Stats, createReadStream, statSync} from 'node:fs'

import {UsageError} from '../../core/errors.js'
import type {BinaryScanner} from '../../integrity/binary-scanner.js'
import {type Wanted, identityScanner, isWanted, readOrigin} from '../../integrity/local-identity.js'
import {readSidecarFile} from '../../integrity/sidecar.js'
import type {FetchRequest} from './request.js'
import type {FetchResult} from './result.js'

export interface LocalCheck {
  readonly sha256: string
  readonly size: number
}

/** One streaming pass: the sha256, and the same chunks through the identity scanner. */
async function hashAndScan(filePath: string, scanner: BinaryScanner): Promise<LocalCheck> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(filePath, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    scanner.update(chunk)
    size += chunk.length
  }
  return {sha256: hash.digest('hex'), size}
}

/**
 * Whether `filePath` holds content matching its recorded `filePath.sha256`
 * (and the pin, when given) that is the wanted version and arch (see
 * integrity/local-identity). Rehashes the file: a stamp is not evidence.
 * Touches only the local disk, and never throws for a missing or bad file:
 * anything short of a match means "fetch again".
 */
export async function localDigestMatches(filePath: string, wanted: Wanted, pin?: string): Promise<LocalCheck | undefined> {
  try {
    const recorded = readSidecarFile(filePath)
    if (!recorded || (pin !== undefined && recorded.sha256 !== pin)) return undefined
    const origin = readOrigin(filePath, wanted)
    if (!origin) return undefined
    const scanner = identityScanner(wanted)
    const actual = await hashAndScan(filePath, scanner)
    return actual.sha256 === recorded.sha256 && isWanted(scanner.result(), origin, actual.sha256, wanted) ? actual : undefined
  } catch {
    return undefined
  }
}

function describeKind(info: Stats): string {
  if (info.isDirectory()) return 'a directory'
  if (info.isFIFO()) return 'a FIFO'
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device'
  if (info.isSocket()) return 'a socket'
  return 'not a regular file'
}

/**
 * --out must be a regular file or nothing: a directory, FIFO or device there
 * is a usage error, found by a stat before anything is opened (a FIFO would
 * block the first read forever) or written (a sidecar next to a directory).
 * Returns whether something is there.
 */
function checkOutKind(request: FetchRequest): boolean {
  const info = statSync(request.out, {throwIfNoEntry: false})
  if (!info) return false
  if (!info.isFile()) throw new UsageError(`--out '${request.outDisplay}' is ${describeKind(info)}, not a file: remove it or give the path of the file to write`)
  return true
}

/** The whole up-to-date decision for a fetch. Loads nothing but fs and crypto: it runs on every `make`. */
export async function checkUpToDate(request: FetchRequest): Promise<FetchResult | undefined> {
  if (!checkOutKind(request) || request.force) return undefined
  const local = await localDigestMatches(request.out, request, request.pin)
  if (!local) return undefined
  return {
    arch: request.arch,
    artifact: request.artifact.name,
    path: request.outDisplay,
    sha256: local.sha256,
    size: local.size,
    status: 'up-to-date',
    verifiedBy: request.pin ? ['sidecar', 'pin'] : ['sidecar'],
    version: request.version,
  }
}
