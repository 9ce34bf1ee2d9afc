import {OperationalError} from '../../core/errors.js'
import {expectedSha256} from '../../integrity/content-identity.js'
import {md5Base64, sha256Hex} from '../../integrity/hash.js'
import {withRetry} from '../../net/retry.js'
import {hashObject} from '../../stores/ops/hash-object.js'
import type {ObjectInfo, Store} from '../../stores/store.js'

/**
 * One object of the source, with what is known about its content. Its sha256
 * comes from the service's checksum or the `sha256` metadata when the store
 * has one (objects published by `upload` carry both where they can);
 * otherwise from a stat (listings of some services omit metadata); and only
 * as a last resort from streaming the whole object through sha256 in memory.
 * A streamed copy checks the bytes against it in flight. Each lookup runs at
 * most once.
 */
export class SourceObject {
  private infoPromise?: Promise<ObjectInfo>
  private sha256Promise?: Promise<string>
  private contentPromise?: Promise<string>

  private constructor(
    readonly store: Store,
    private readonly listed: ObjectInfo,
    /** The exact bytes to write, for small objects that were already read and checked (sidecars). */
    readonly content?: Buffer,
  ) {}

  static listed(store: Store, info: ObjectInfo): SourceObject {
    return new SourceObject(store, info)
  }

  /** An object whose content is in memory: its digest and length come from those bytes, not from metadata. */
  static withContent(store: Store, key: string, content: Buffer): SourceObject {
    return new SourceObject(store, {key, md5: md5Base64(content), sha256: sha256Hex(content), size: content.length}, content)
  }

  /** What the listing said, without any request. */
  get listedInfo(): ObjectInfo {
    return this.listed
  }

  get key(): string {
    return this.listed.key
  }

  get where(): string {
    return `${this.store.display}/${this.listed.key}`
  }

  /**
   * The listing's metadata, refreshed by a stat when the listing carried no
   * sha256. For an object stored gzip-encoded, whose listed size and digests
   * describe the compressed bytes, the facts of its decoded content instead
   * (read and hashed once): that is what every check and every copy uses.
   */
  info(): Promise<ObjectInfo> {
    this.infoPromise ??= (async () => {
      const known = expectedSha256(this.listed) || this.listed.encoding ? this.listed : await this.statted()
      return known.encoding ? this.decoded() : known
    })()
    return this.infoPromise
  }

  sha256(): Promise<string> {
    this.sha256Promise ??= this.info().then(async (info) => expectedSha256(info) ?? (await this.contentSha256()))
    return this.sha256Promise
  }

  /**
   * The sha256 of the content by evidence only: the service's own checksum,
   * or the content hashed here; never the `sha256` metadata a client wrote,
   * which a tampered object can carry. What a lock entry is compared with.
   */
  contentSha256(): Promise<string> {
    this.contentPromise ??= this.info().then(async (info) => info.sha256 ?? (await this.hashed(info.size)))
    return this.contentPromise
  }

  private async hashed(listedSize: number): Promise<string> {
    const {sha256, size} = await hashObject(this.store, this.key)
    if (size !== listedSize) throw new OperationalError(`${this.where} changed while being copied (${size} bytes, listed as ${listedSize}): run again`)
    return sha256
  }

  private async decoded(): Promise<ObjectInfo> {
    const {sha256, size} = await hashObject(this.store, this.key)
    return {key: this.key, sha256, size}
  }

  private async statted(): Promise<ObjectInfo> {
    const fresh = await withRetry('stat', () => this.store.stat(this.key))
    return fresh && fresh.size === this.listed.size ? fresh : this.listed
  }
}
