import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {sha256FileSync} from '../integrity/hash.js'
import {SIDECAR_MAX_BYTES, parseSidecar} from '../integrity/sidecar.js'
import type {FetchRequest} from '../core/fetch-request.js'
import type {FetchResult} from './fetch-artifact.js'

export interface LocalCheck {
  readonly sha256: string
  readonly size: number
}

/**
 * Whether `filePath` holds content matching its recorded `filePath.sha256`
 * (and the pin, when given). Rehashes the file: a stamp is not evidence.
 * Touches only the local disk, and never throws for a missing or bad file:
 * anything short of a match means "fetch again".
 *
 * Synchronous on purpose: it runs on every `make`, and the promise and stream
 * machinery of an asynchronous read costs more than the read itself. The hash
 * reads 1 MiB at a time, so a 512 MB file needs no more memory than a small one.
 */
export function localDigestMatches(filePath: string, pin?: string): LocalCheck | undefined {
  try {
    const sidecarPath = `${filePath}.sha256`
    const sidecarStat = statSync(sidecarPath, {throwIfNoEntry: false})
    if (!sidecarStat?.isFile() || sidecarStat.size > SIDECAR_MAX_BYTES) return undefined
    const recorded = parseSidecar(readFileSync(sidecarPath), sidecarPath, path.basename(filePath))
    if (pin !== undefined && recorded.sha256 !== pin) return undefined
    // Only a regular file can match; opening a FIFO would block.
    if (!statSync(filePath, {throwIfNoEntry: false})?.isFile()) return undefined
    const actual = sha256FileSync(filePath)
    return actual.sha256 === recorded.sha256 ? actual : undefined
  } catch {
    return undefined
  }
}

/** The whole up-to-date decision for a fetch. Loads nothing but fs and crypto: it runs on every `make`. */
export function checkUpToDate(request: FetchRequest): FetchResult | undefined {
  if (request.force) return undefined
  const local = localDigestMatches(request.out, request.pin)
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
