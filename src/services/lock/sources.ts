import path from 'node:path'

import type {Arch} from '../../core/catalog.js'
import {IntegrityError, NotFoundError} from '../../core/errors.js'
import {joinKey} from '../../core/keys.js'
import {type Location, artifactRoot, gcsPublicView} from '../../core/location.js'
import type {LockSlot} from '../../integrity/lock-file.js'
import {openStore} from '../../stores/open-store.js'
import {readSidecar} from '../../stores/ops/read-sidecar.js'
import type {Store} from '../../stores/store.js'
import {type ExpectedDigest, GithubSource, type SourceBinary} from '../shared/release-source.js'
import type {LockRequest} from './request.js'

/** One file to lock: what it is, where to read it, what must agree with it, and the name the lock records. */
export interface LockTarget {
  readonly slot: LockSlot
  readonly binary: SourceBinary
  /** The logical source (see LockEntry.source). */
  readonly source: string
  /** The artifact's own file, which gets upload's binary checks; companions are checked by digest. */
  readonly main: boolean
}

export interface LockSource {
  readonly display: string
  /** Check downloads against the service's own checksum too (a bucket). */
  readonly checkService: boolean
  /** A directory on this machine: a file nothing independent vouches for is locked with a warning, not refused. */
  readonly local: boolean
  /** The files to lock for one arch: the artifact's file, and each companion the source holds. */
  targets(arch: Arch): Promise<LockTarget[]>
  close(): Promise<void>
}

/**
 * The name a bucket object is recorded by: its bucket and key, whatever
 * endpoint or emulator it was read through (the anonymous https view of a
 * GCS bucket is that bucket, gs://), and for a directory `file:` and the path
 * relative to the lock file's directory, so that a checkout anywhere records
 * the same.
 */
export function logicalName(location: Location, keyInLocation: string, lockDir: string): string {
  switch (location.scheme) {
    case 'file': {
      return `file:${path.relative(lockDir, path.join(location.dir, ...keyInLocation.split('/'))).split(path.sep).join('/')}`
    }
    case 'gs':
    case 's3': {
      return `${location.scheme}://${joinKey(location.bucket, location.prefix, keyInLocation)}`
    }
    case 'az': {
      return `az://${joinKey(location.account ?? '', location.bucket, location.prefix, keyInLocation)}`
    }
    case 'http':
    case 'https': {
      const view = gcsPublicView(location)
      if (!view) throw new Error(`no logical name for ${location.display}`)
      return `gs://${joinKey(view.bucket, view.prefix, keyInLocation)}`
    }
    case 'github': {
      throw new Error('a GitHub release is named by its tag')
    }
  }
}

class ReleaseLockSource implements LockSource {
  readonly checkService = false
  readonly local = false
  readonly display: string
  private readonly release: GithubSource

  constructor(
    private readonly request: LockRequest & {from: {scheme: 'github'}},
    onRetry?: (message: string) => void,
  ) {
    this.release = new GithubSource(request.from, {artifact: request.artifact, tag: request.tag!, version: request.version}, {onRetry})
    this.display = this.release.display
  }

  async targets(arch: Arch): Promise<LockTarget[]> {
    const {artifact, from, tag, version} = this.request
    const binary = await this.release.locate(arch)
    return [{binary, main: true, slot: {arch, artifact: artifact.name, file: artifact.file, version}, source: `github:${from.owner}/${from.repo}@${tag}`}]
  }

  close(): Promise<void> {
    return this.release.close()
  }
}

class BucketLockSource implements LockSource {
  readonly checkService = true
  readonly local: boolean
  readonly display: string

  constructor(
    private readonly request: LockRequest,
    private readonly store: Store,
    private readonly root: string,
    private readonly lockDir: string,
  ) {
    this.display = store.display
    this.local = request.from.scheme === 'file'
  }

  async targets(arch: Arch): Promise<LockTarget[]> {
    const {artifact, version} = this.request
    // Kernels and Firecracker builds from before the arch level sit at {version}/{file}, and are amd64.
    const dirs = [`${version}/${arch}`, ...(arch === 'amd64' && artifact.legacyFlat ? [version] : [])]
    let dir: string | undefined
    for (const candidate of dirs) {
      if (await this.store.stat(`${candidate}/${artifact.file}`)) {
        dir = candidate
        break
      }
    }
    if (dir === undefined) throw new NotFoundError(`${artifact.name} ${version}/${arch} not found at ${this.store.display}: check --version, --arch and --from`)
    const found: LockTarget[] = []
    for (const file of [artifact.file, ...artifact.companions]) {
      const target = await this.target(`${dir}/${file}`, {arch, artifact: artifact.name, file, version}, file === artifact.file)
      if (target) found.push(target)
    }
    return found
  }

  /** What the bucket records about one object: its sidecar, the service's sha256, and the sha256 metadata a client wrote. */
  private async target(key: string, slot: LockSlot, main: boolean): Promise<LockTarget | undefined> {
    const info = await this.store.stat(key)
    if (!info) return undefined
    const where = `${this.store.display}/${key}`
    const required = main && this.request.artifact.sidecarRequired
    const sidecar = await readSidecar(this.store, key, slot.file, {optional: true})
    if (!sidecar && required) throw new IntegrityError(`sidecar ${where}.sha256 is missing: refusing to lock a ${this.request.artifact.name} nothing vouches for`)
    const expected: ExpectedDigest[] = []
    if (sidecar) expected.push({by: 'sidecar', sha256: sidecar.sha256, where: `${where}.sha256`})
    // The stored digests of a gzip-encoded object describe the compressed bytes: not compared.
    if (!info.encoding && info.sha256) expected.push({by: 'service-checksum', sha256: info.sha256, where: `the service's own sha256 of ${where}`})
    if (!info.encoding && info.metadataSha256) expected.push({by: 'metadata', sha256: info.metadataSha256, where: `the sha256 metadata of ${where}`})
    return {binary: {expected, key, store: this.store, where}, main, slot, source: logicalName(this.request.from, joinKey(this.root, key), this.lockDir)}
  }

  async close(): Promise<void> {
    await this.store.close?.()
  }
}

/** Where `lock` reads from: a GitHub release, or a bucket or directory laid out as fetch reads it. */
export async function openLockSource(request: LockRequest, lockDir: string, onRetry?: (message: string) => void): Promise<LockSource> {
  if (request.from.scheme === 'github') return new ReleaseLockSource({...request, from: request.from}, onRetry)
  const root = artifactRoot(request.from, request.artifact, request.layout)
  return new BucketLockSource(request, await openStore(request.from, root), root, lockDir)
}
