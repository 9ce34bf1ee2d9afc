import {chmod, mkdir, open, rename, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {binaryKey, sidecarKey} from '../core/catalog.js'
import {IntegrityError, NotFoundError} from '../core/errors.js'
import type {FetchRequest} from '../core/fetch-request.js'
import {artifactRoot} from '../core/location.js'
import {checkElfArch} from '../integrity/elf.js'
import {SIDECAR_MAX_BYTES, formatSidecar, parseSidecar, type Sidecar} from '../integrity/sidecar.js'
import {openStore} from '../stores/open-store.js'
import {readSmall} from '../stores/read-small.js'
import type {Store} from '../stores/store.js'
import {withRetry} from './retry.js'
import {type StagedFile, stageObject} from './stage.js'
import {discard, released, tempPathFor} from './temp-files.js'
import {checkUpToDate} from './up-to-date.js'

export interface FetchResult {
  readonly status: 'fetched' | 'up-to-date'
  readonly artifact: string
  readonly version: string
  readonly arch: string
  readonly path: string
  readonly sha256: string
  readonly size: number
  /** What the digest was checked against. */
  readonly verifiedBy: Array<'pin' | 'sidecar'>
  readonly source?: string
}

export interface FetchEvents {
  onRetry?(message: string): void
  onWarning?(message: string): void
}

async function fetchSidecar(store: Store, key: string, request: FetchRequest, events: FetchEvents): Promise<Sidecar | undefined> {
  const where = `${store.display}/${key}`
  try {
    const content = await withRetry('sidecar download', () => readSmall(store, key, SIDECAR_MAX_BYTES), {
      onRetry: (error) => events.onRetry?.(`${error.message}; retrying`),
    })
    return parseSidecar(content, where, request.artifact.file)
  } catch (error) {
    if (error instanceof NotFoundError && !request.artifact.sidecarRequired) return undefined
    if (error instanceof NotFoundError) throw new IntegrityError(`sidecar ${where} is missing: refusing an unverified ${request.artifact.name}`)
    throw error
  }
}

function verify(staged: StagedFile, sidecar: Sidecar | undefined, request: FetchRequest, where: string): FetchResult['verifiedBy'] {
  const verifiedBy: FetchResult['verifiedBy'] = []
  if (sidecar) {
    if (request.pin && sidecar.sha256 !== request.pin) {
      throw new IntegrityError(`sidecar ${where}.sha256 says ${sidecar.sha256}, but --sha256 pins ${request.pin}`)
    }
    if (staged.sha256 !== sidecar.sha256) {
      throw new IntegrityError(`${where} has sha256 ${staged.sha256}, but its sidecar says ${sidecar.sha256}: not installed`)
    }
    verifiedBy.push('sidecar')
  }
  if (request.pin) {
    if (staged.sha256 !== request.pin) throw new IntegrityError(`${where} has sha256 ${staged.sha256}, but --sha256 pins ${request.pin}: not installed`)
    verifiedBy.push('pin')
  }
  if (request.artifact.elf) checkElfArch(staged.head, request.arch, where)
  return verifiedBy
}

/** Writes the sidecar, then the binary, into place; each is a rename of a synced temp file. */
async function install(staged: StagedFile, request: FetchRequest): Promise<void> {
  const sidecarTemp = tempPathFor(`${request.out}.sha256`)
  try {
    await writeFile(sidecarTemp, formatSidecar(staged.sha256, path.basename(request.out)), {flag: 'wx', flush: true, mode: 0o644})
    await chmod(staged.path, 0o755)
    await rename(sidecarTemp, `${request.out}.sha256`)
    released(sidecarTemp)
    await rename(staged.path, request.out)
    released(staged.path)
  } finally {
    await discard(sidecarTemp)
  }
  const dir = await open(path.dirname(request.out), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

function explainMissing(result: PromiseSettledResult<StagedFile>, request: FetchRequest, where: string): unknown {
  const reason = result.status === 'rejected' ? result.reason : undefined
  if (!(reason instanceof NotFoundError)) return reason
  return new NotFoundError(`${request.artifact.name} ${request.version}/${request.arch} not found at ${where}: check --version, --arch and --from`)
}

/**
 * Fetches one artifact: up-to-date check, then binary and sidecar downloaded
 * concurrently into temp files next to the destination, verified, and renamed
 * into place. Nothing unverified ever reaches `request.out`.
 */
export async function fetchArtifact(request: FetchRequest, events: FetchEvents = {}): Promise<FetchResult> {
  const upToDate = await checkUpToDate(request)
  if (upToDate) return upToDate

  await mkdir(path.dirname(request.out), {recursive: true})
  const store = await openStore(request.from, artifactRoot(request.from, request.artifact, request.layout))
  try {
    const key = binaryKey(request.artifact, request.version, request.arch)
    const where = `${store.display}/${key}`
    const [stagedResult, sidecarResult] = await Promise.allSettled([
      stageObject(store, key, request.out, {onRetry: events.onRetry}),
      fetchSidecar(store, sidecarKey(key), request, events),
    ])
    const staged = stagedResult.status === 'fulfilled' ? stagedResult.value : undefined
    try {
      if (!staged) throw explainMissing(stagedResult, request, where)
      if (sidecarResult.status === 'rejected') throw sidecarResult.reason
      const verifiedBy = verify(staged, sidecarResult.value, request, where)
      if (verifiedBy.length === 0) events.onWarning?.(`${where} has no sidecar and no --sha256 pin was given: only its size and format were checked`)
      await install(staged, request)
      return {
        arch: request.arch,
        artifact: request.artifact.name,
        path: request.outDisplay,
        sha256: staged.sha256,
        size: staged.size,
        source: where,
        status: 'fetched',
        verifiedBy,
        version: request.version,
      }
    } finally {
      if (staged) await discard(staged.path)
    }
  } finally {
    await store.close?.()
  }
}
