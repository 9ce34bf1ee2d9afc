import {sha256File} from '../../integrity/hash.js'
import {readSidecarFile} from '../../integrity/sidecar.js'
import type {FetchRequest} from './request.js'
import type {FetchResult} from './result.js'

export interface LocalCheck {
  readonly sha256: string
  readonly size: number
}

/**
 * Whether `filePath` holds content matching its recorded `filePath.sha256`
 * (and the pin, when given). Rehashes the file: a stamp is not evidence.
 * Touches only the local disk, and never throws for a missing or bad file:
 * anything short of a match means "fetch again".
 */
export async function localDigestMatches(filePath: string, pin?: string): Promise<LocalCheck | undefined> {
  try {
    const recorded = readSidecarFile(filePath)
    if (!recorded || (pin !== undefined && recorded.sha256 !== pin)) return undefined
    const actual = await sha256File(filePath)
    return actual.sha256 === recorded.sha256 ? actual : undefined
  } catch {
    return undefined
  }
}

/** The whole up-to-date decision for a fetch. Loads nothing but fs and crypto: it runs on every `make`. */
export async function checkUpToDate(request: FetchRequest): Promise<FetchResult | undefined> {
  if (request.force) return undefined
  const local = await localDigestMatches(request.out, request.pin)
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
