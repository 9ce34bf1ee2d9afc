import type {Arch, Artifact} from '../../core/catalog.js'
import {IntegrityError, NotFoundError, UsageError} from '../../core/errors.js'
import {binaryKey} from '../../core/keys.js'
import type {FileLocation, GithubLocation} from '../../core/location.js'
import {sha256Hex} from '../../integrity/hash.js'
import {SHA256SUMS_MAX_BYTES, digestFor, parseSha256Sums} from '../../integrity/sha256sums.js'
import {GithubReleaseStore} from '../../stores/github-release.js'
import {openStore} from '../../stores/open-store.js'
import {readSidecar} from '../../stores/ops/read-sidecar.js'
import {readSmall} from '../../stores/ops/read-small.js'
import type {Store} from '../../stores/store.js'
import {withRetry} from '../../net/retry.js'

/**
 * Who records a digest, independently of the bytes we downloaded: a
 * release's SHA256SUMS and GitHub's asset digest, a sidecar, the storage
 * service's own checksum. `metadata` is the `sha256` a client wrote next to
 * an object: a claim, which must agree but never vouches for anything.
 */
export type DigestSource = 'SHA256SUMS' | 'api-digest' | 'sidecar' | 'service-checksum' | 'metadata'

/** Whether a digest source is evidence, rather than a claim. */
export function vouches(by: DigestSource): boolean {
  return by !== 'metadata'
}

export interface ExpectedDigest {
  readonly by: DigestSource
  readonly sha256: string
  /** The file or API field that recorded it, for messages. */
  readonly where: string
}

/** One source binary: where to read it and what it must hash to. */
export interface SourceBinary {
  readonly store: Store
  readonly key: string
  /** Safe to print. */
  readonly where: string
  /** Every independent digest available; empty only for a local build without a sidecar. */
  readonly expected: readonly ExpectedDigest[]
}

/** Where release binaries come from: a GitHub release or a local build directory. */
export interface ReleaseSource {
  readonly display: string
  locate(arch: Arch): Promise<SourceBinary>
  close(): Promise<void>
}

export interface SourceEvents {
  onRetry?(message: string): void
}

const SUMS = 'SHA256SUMS'

// Git's own ref rules are looser, but nothing outside this set is a sensible release tag.
const TAG_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._+/-]{0,127}$/

/** `--tag`, checked, or its default `v{version}`. */
export function releaseTag(tag: string | undefined, version: string): string {
  const chosen = tag ?? `v${version}`
  if (!TAG_PATTERN.test(chosen) || chosen.includes('..')) throw new UsageError(`invalid --tag '${chosen}'`)
  return chosen
}

/** Which release and assets to read. */
export interface ReleaseCoordinates {
  readonly artifact: Artifact
  readonly version: string
  /** The release tag, for a github: source. */
  readonly tag: string
}

/**
 * A release of the busybox build repo. Its workflow names assets
 * `busybox_{tag}_{arch}` (so a rebuild tag `v1.36.1-20260401` carries the
 * tag), and `busybox_v{version}_{arch}` is accepted too; `SHA256SUMS` must
 * cover whichever name is used.
 */
export class GithubSource implements ReleaseSource {
  readonly display: string
  private readonly store: GithubReleaseStore
  private sumsPromise?: Promise<ReadonlyMap<string, string>>

  constructor(
    location: GithubLocation,
    private readonly request: ReleaseCoordinates,
    private readonly events: SourceEvents = {},
  ) {
    this.store = new GithubReleaseStore(location, request.tag, {onRetry: events.onRetry})
    this.display = this.store.display
  }

  async locate(arch: Arch): Promise<SourceBinary> {
    const {artifact, tag, version} = this.request
    const names = [...new Set([`${artifact.name}_${tag}_${arch}`, `${artifact.name}_v${version}_${arch}`])]
    const assets = await this.store.assets()
    const asset = names.map((name) => assets.find((candidate) => candidate.name === name)).find(Boolean)
    if (!asset) {
      throw new NotFoundError(`release ${this.display} has no asset ${names.join(' or ')} (it has: ${assets.map((a) => a.name).join(', ') || 'nothing'})`)
    }
    const where = `${this.display}/${asset.name}`
    const sums = await this.sums()
    const expected: ExpectedDigest[] = [{by: 'SHA256SUMS', sha256: digestFor(sums, asset.name, `${this.display}/${SUMS}`), where: `${this.display}/${SUMS}`}]
    if (asset.sha256) expected.push({by: 'api-digest', sha256: asset.sha256, where: `the GitHub API digest of ${where}`})
    return {expected, key: asset.name, store: this.store, where}
  }

  private sums(): Promise<ReadonlyMap<string, string>> {
    this.sumsPromise ??= this.loadSums()
    return this.sumsPromise
  }

  private async loadSums(): Promise<ReadonlyMap<string, string>> {
    const where = `${this.display}/${SUMS}`
    const info = await this.store.stat(SUMS)
    if (!info) throw new IntegrityError(`release ${this.display} has no ${SUMS} asset: refusing to publish binaries nothing vouches for`)
    const content = await withRetry(`${SUMS} download`, () => readSmall(this.store, SUMS, SHA256SUMS_MAX_BYTES), {onRetry: this.events.onRetry})
    // The listing is itself an asset with an API digest: a corrupted listing must not vouch for anything.
    if (info.sha256 && sha256Hex(content) !== info.sha256) {
      throw new IntegrityError(`${where} has sha256 ${sha256Hex(content)}, but the GitHub API digest says ${info.sha256}`)
    }
    return parseSha256Sums(content, where)
  }

  async close(): Promise<void> {}
}

/**
 * A build directory as fc-busybox's build.sh writes it: `{version}/{arch}/{file}`,
 * with an optional `{file}.sha256` sidecar next to the binary.
 */
class LocalSource implements ReleaseSource {
  readonly display: string

  private constructor(
    private readonly store: Store,
    private readonly request: ReleaseCoordinates,
  ) {
    this.display = store.display
  }

  static async open(location: FileLocation, request: ReleaseCoordinates): Promise<LocalSource> {
    return new LocalSource(await openStore(location, ''), request)
  }

  async locate(arch: Arch): Promise<SourceBinary> {
    const {artifact, version} = this.request
    const key = binaryKey(artifact, version, arch)
    const where = `${this.store.display}/${key}`
    if (!(await this.store.stat(key))) throw new NotFoundError(`${where} not found: check --from, --version and --arch`)
    const sidecar = await readSidecar(this.store, key, artifact.file, {optional: true})
    if (!sidecar) return {expected: [], key, store: this.store, where}
    return {expected: [{by: 'sidecar', sha256: sidecar.sha256, where: `${where}.sha256`}], key, store: this.store, where}
  }

  async close(): Promise<void> {
    await this.store.close?.()
  }
}

/** The release binaries at `from`: a GitHub release (by tag) or a local build directory. */
export async function openReleaseSource(from: FileLocation | GithubLocation, release: ReleaseCoordinates, events: SourceEvents = {}): Promise<ReleaseSource> {
  return from.scheme === 'github' ? new GithubSource(from, release, events) : LocalSource.open(from, release)
}
