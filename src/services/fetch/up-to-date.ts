import {statSync} from 'node:fs'

import {UsageError} from '../../core/errors.js'
import {describeKind} from '../../core/file-kind.js'
import {sha256FileSync} from '../../integrity/hash.js'
import {type Wanted, identityScanner, isWanted, readOrigin} from '../../integrity/local-identity.js'
import {readSidecarFile} from '../../integrity/sidecar.js'
import type {FetchRequest} from './request.js'
import type {FetchResult} from './result.js'

export interface LocalCheck {
  readonly sha256: string
  readonly size: number
}

/**
 * Whether `filePath` holds content matching its recorded `filePath.sha256`
 * (and the pin, when given) that is the wanted version and arch (see
 * integrity/local-identity). Rehashes the file: a stamp is not evidence.
 * Touches only the local disk, and never throws for a missing or bad file:
 * anything short of a match means "fetch again".
 *
 * Synchronous on purpose: it runs on every `make`, and the promise and stream
 * machinery of an asynchronous read costs more than the read itself. The hash
 * reads 1 MiB at a time, so a 512 MB file needs no more memory than a small
 * one, and the identity scanner sees the same chunks: the file is read once.
 */
export function localDigestMatches(filePath: string, wanted: Wanted, pin?: string, knownRegularFile = false): LocalCheck | undefined {
  try {
    const recorded = readSidecarFile(filePath)
    if (!recorded || (pin !== undefined && recorded.sha256 !== pin)) return undefined
    const origin = readOrigin(filePath, wanted)
    if (!origin) return undefined
    // Only a regular file can match; opening a FIFO would block. (checkUpToDate has stat'ed it already.)
    if (!knownRegularFile && !statSync(filePath, {throwIfNoEntry: false})?.isFile()) return undefined
    const scanner = identityScanner(wanted)
    const actual = sha256FileSync(filePath, (chunk) => scanner.update(chunk))
    return actual.sha256 === recorded.sha256 && isWanted(scanner.result(), origin, actual.sha256, wanted) ? actual : undefined
  } catch {
    return undefined
  }
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
export function checkUpToDate(request: FetchRequest): FetchResult | undefined {
  if (!checkOutKind(request) || request.force) return undefined
  // A --sha256 that disagrees with the lock was refused already: either one is the pin.
  const local = localDigestMatches(request.out, request, request.lockPin?.sha256 ?? request.pin, true)
  if (!local) return undefined
  const verifiedBy: FetchResult['verifiedBy'] = ['sidecar']
  if (request.pin) verifiedBy.push('pin')
  if (request.lockPin) verifiedBy.push('lock')
  return {
    arch: request.arch,
    artifact: request.artifact.name,
    path: request.outDisplay,
    sha256: local.sha256,
    size: local.size,
    status: 'up-to-date',
    verifiedBy,
    version: request.version,
  }
}
