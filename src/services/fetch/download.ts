import path from 'node:path'

import {IntegrityError, NotFoundError} from '../../core/errors.js'
import {binaryKey, legacyFlatKey} from '../../core/keys.js'
import {artifactRoot} from '../../core/location.js'
import {discard, prepareDirectory} from '../../core/temp-files.js'
import {checkVersionBanner, versionMarker} from '../../integrity/binary-checks.js'
import {checkElfArch} from '../../integrity/elf.js'
import type {Sidecar} from '../../integrity/sidecar.js'
import {openStore} from '../../stores/open-store.js'
import {readSidecar} from '../../stores/ops/read-sidecar.js'
import {type StagedFile, stageObject} from '../../stores/ops/stage.js'
import type {Store} from '../../stores/store.js'
import {installVerified} from './install.js'
import type {FetchRequest} from './request.js'
import type {FetchEvents, FetchResult} from './result.js'

async function fetchSidecar(store: Store, key: string, request: FetchRequest, events: FetchEvents): Promise<Sidecar | undefined> {
  const sidecar = await readSidecar(store, key, request.artifact.file, {onRetry: events.onRetry, optional: true})
  if (sidecar || !request.artifact.sidecarRequired) return sidecar
  throw new IntegrityError(`sidecar ${store.display}/${key}.sha256 is missing: refusing an unverified ${request.artifact.name}`)
}

/** What to do when the lock disagrees with the bucket. */
function relock(request: FetchRequest): string {
  return `if the bucket holds a new build on purpose, review it and re-pin it with e2b-artifacts lock ${request.artifact.name} --version ${request.version} --arch ${request.arch} --update`
}

/**
 * Checks the staged bytes against the sidecar, the pin, the lock entry and
 * the ELF machine; returns what vouched for them. Without a sidecar or a
 * pin, the service's own checksum of the object (verified while staging)
 * vouches for them; when nothing does, they are refused unless
 * --allow-unverified says otherwise.
 */
function verifyStaged(staged: StagedFile, sidecar: Sidecar | undefined, request: FetchRequest, where: string): FetchResult['verifiedBy'] {
  const verifiedBy: FetchResult['verifiedBy'] = []
  const {lockPin} = request
  if (sidecar) {
    if (request.pin && sidecar.sha256 !== request.pin) {
      throw new IntegrityError(`sidecar ${where}.sha256 says ${sidecar.sha256}, but --sha256 pins ${request.pin}`)
    }
    // A sidecar stored next to the binary can be replaced with it: the lock, reviewed elsewhere, is what decides.
    if (lockPin && sidecar.sha256 !== lockPin.sha256) {
      throw new IntegrityError(`sidecar ${where}.sha256 says ${sidecar.sha256}, but ${lockPin.where} pins ${lockPin.sha256}: not installed; ${relock(request)}`)
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
  if (lockPin) {
    if (staged.sha256 !== lockPin.sha256) throw new IntegrityError(`${where} has sha256 ${staged.sha256}, but ${lockPin.where} pins ${lockPin.sha256}: not installed; ${relock(request)}`)
    if (staged.size !== lockPin.size) throw new IntegrityError(`${where} is ${staged.size} bytes, but ${lockPin.where} pins ${lockPin.size} bytes for sha256 ${lockPin.sha256}: not installed; fix the lock entry`)
    verifiedBy.push('lock')
  }
  if (verifiedBy.length === 0 && staged.serviceVerified) verifiedBy.push('service-checksum')
  if (verifiedBy.length === 0 && !request.allowUnverified) {
    throw new IntegrityError(
      `${where} has no sidecar and the service reports no checksum of it, so nothing can verify the bytes received: not installed; pass --sha256 HEX, or --allow-unverified to install it anyway`,
    )
  }
  if (request.artifact.elf) checkElfArch(staged.head, request.arch, where)
  return verifiedBy
}

function explainMissing(result: PromiseSettledResult<StagedFile>, request: FetchRequest, where: string): unknown {
  const reason = result.status === 'rejected' ? result.reason : undefined
  if (!(reason instanceof NotFoundError)) return reason
  return new NotFoundError(`${request.artifact.name} ${request.version}/${request.arch} not found at ${where}: check --version, --arch and --from`)
}

interface Staged {
  readonly key: string
  readonly staged: PromiseSettledResult<StagedFile>
  readonly sidecar: PromiseSettledResult<Sidecar | undefined>
}

/**
 * The binary and its sidecar at one key, downloaded concurrently into temp
 * files next to the destination. Without a required sidecar or a pin, the
 * service's checksum may be all there is: the bytes are checked against it in
 * transit, until the sidecar (fetched at the same time) turns up and makes
 * that unnecessary.
 */
async function stageAt(store: Store, key: string, request: FetchRequest, events: FetchEvents): Promise<Staged> {
  let sidecarFound = false
  const serviceCheck = request.artifact.sidecarRequired || request.pin || request.lockPin ? undefined : (): boolean => !sidecarFound
  const [staged, sidecar] = await Promise.allSettled([
    stageObject(store, key, request.out, {checkService: serviceCheck, onRetry: events.onRetry, scanFor: versionMarker(request.artifact, request.version)}),
    fetchSidecar(store, key, request, events).then((found) => {
      sidecarFound = found !== undefined
      return found
    }),
  ])
  return {key, sidecar, staged}
}

/**
 * `{version}/{arch}/{file}`, or for amd64 kernels and Firecracker builds that
 * predate the arch level, the legacy flat `{version}/{file}` when the first is
 * absent (as upstream's build tooling falls back).
 */
async function stageArtifact(store: Store, request: FetchRequest, events: FetchEvents): Promise<Staged> {
  const first = await stageAt(store, binaryKey(request.artifact, request.version, request.arch), request, events)
  const flat = request.arch === 'amd64' ? legacyFlatKey(request.artifact, request.version) : undefined
  if (!flat || first.staged.status !== 'rejected' || !(first.staged.reason instanceof NotFoundError)) return first
  const second = await stageAt(store, flat, request, events)
  return second.staged.status === 'rejected' && second.staged.reason instanceof NotFoundError ? first : second
}

/**
 * Downloads one artifact: binary and sidecar concurrently into temp files next
 * to the destination, verified, and renamed into place. Nothing unverified
 * ever reaches `request.out`.
 */
export async function download(request: FetchRequest, events: FetchEvents = {}): Promise<FetchResult> {
  await prepareDirectory(path.dirname(request.out))
  const store = await openStore(request.from, artifactRoot(request.from, request.artifact, request.layout))
  try {
    const {key, sidecar: sidecarResult, staged: stagedResult} = await stageArtifact(store, request, events)
    const where = `${store.display}/${key}`
    const staged = stagedResult.status === 'fulfilled' ? stagedResult.value : undefined
    try {
      if (!staged) throw explainMissing(stagedResult, request, where)
      if (sidecarResult.status === 'rejected') throw sidecarResult.reason
      const verifiedBy = verifyStaged(staged, sidecarResult.value, request, where)
      // A build without the requested version's banner would never be up to date: every run would fetch it again.
      await checkVersionBanner(staged, request.artifact, request.version, where)
      if (verifiedBy.length === 0) events.onWarning?.(`${where} has no sidecar, no --sha256 pin and no checksum from the service: installed unverified, as --allow-unverified asked`)
      await installVerified(staged, request.out, request)
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
