import {GCS_PUBLIC_HOST} from '../core/config.js'
import {NotFoundError, OperationalError} from '../core/errors.js'
import {assertSafeKey, joinKey} from '../core/keys.js'
import type {BucketLocation, GcsPublicView, HttpLocation} from '../core/location.js'
import {httpRequest} from '../net/http-client.js'
import {readBounded} from '../net/read-bounded.js'
import {withRetry} from '../net/retry.js'
import {sha256FromMetadata} from './checksums.js'
import {gcsEndpoint} from './gcs-endpoint.js'
import {HttpStore} from './http-store.js'
import type {ObjectInfo, ReadOptions} from './store.js'

/** One page of a listing, or one object's metadata, is a small JSON document; anything bigger is refused. */
const DOCUMENT_MAX_BYTES = 16 * 1024 * 1024
const PAGE_SIZE = 1000
const OBJECT_FIELDS = 'name,size,md5Hash,crc32c,metadata,generation,contentEncoding'
const BASE64_MD5 = /^[A-Za-z0-9+/]{22}==$/
const BASE64_CRC32C = /^[A-Za-z0-9+/]{6}==$/

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * `https://storage.googleapis.com/BUCKET[/prefix]`: a public GCS bucket, read
 * and listed with no credentials at all, as `aws s3 cp --no-sign-request
 * --endpoint-url https://storage.googleapis.com` does upstream. Objects are
 * read from their public URLs (like any https location); metadata and
 * listings come from the JSON API's public endpoints. No request carries an
 * Authorization header, and neither Application Default Credentials nor the
 * GCS SDK is ever loaded, so stale Google credentials cannot get in the way.
 * E2B_ARTIFACTS_GCS_ENDPOINT (an emulator) redirects it like gs://.
 */
export class GcsPublicStore extends HttpStore {
  private readonly apiBase: string
  /** Object-name prefix of the store's root inside the bucket: '' or ending in '/'. */
  private readonly base: string

  constructor(
    location: HttpLocation,
    private readonly view: GcsPublicView,
    private readonly viewRoot: string,
  ) {
    const origin = gcsEndpoint()?.apiEndpoint ?? `https://${GCS_PUBLIC_HOST}`
    super({...location, baseUrl: `${origin}/${location.segments.map((segment) => encodeURIComponent(segment)).join('/')}`}, viewRoot)
    this.apiBase = `${origin}/storage/v1/b/${encodeURIComponent(view.bucket)}/o`
    const rootName = joinKey(view.prefix, viewRoot)
    this.base = rootName === '' ? '' : `${rootName}/`
  }

  /** The same objects as a gs:// location, for a server-side copy by a destination that holds credentials. */
  asBucketLocation(): {location: BucketLocation; root: string} {
    const {bucket, prefix} = this.view
    return {location: {bucket, display: `gs://${joinKey(bucket, prefix)}`, prefix, scheme: 'gs'}, root: this.viewRoot}
  }

  private async document(url: string, what: string, signal?: AbortSignal): Promise<unknown> {
    const response = await httpRequest(url, {headers: {accept: 'application/json'}, signal})
    const content = await readBounded(response.body, DOCUMENT_MAX_BYTES, what, () => new OperationalError(`${what}: the JSON API answered with more than ${DOCUMENT_MAX_BYTES} bytes`))
    try {
      return JSON.parse(content.toString('utf8')) as unknown
    } catch {
      throw new OperationalError(`${what}: the JSON API answered with something other than JSON`)
    }
  }

  /** An object resource from the JSON API, checked field by field: a listing is hostile input. */
  private infoFrom(item: unknown, what: string): ObjectInfo & {name: string} {
    const malformed = (field: string): Error => new OperationalError(`${what}: the JSON API sent a malformed object (${field})`)
    if (!isRecord(item)) throw malformed('not an object')
    const {contentEncoding, crc32c, generation, md5Hash, metadata, name, size} = item
    if (typeof name !== 'string' || name === '') throw malformed('name')
    const bytes = typeof size === 'string' && /^\d{1,16}$/.test(size) ? Number(size) : Number.NaN
    if (!Number.isSafeInteger(bytes)) throw malformed(`size of ${JSON.stringify(name.slice(0, 200))}`)
    // Metadata a client wrote is a claim, kept apart from the service's md5 and crc32c.
    const metadataSha256 = isRecord(metadata) ? sha256FromMetadata(metadata.sha256) : undefined
    return {
      key: name,
      name,
      size: bytes,
      ...(typeof md5Hash === 'string' && BASE64_MD5.test(md5Hash) ? {md5: md5Hash} : {}),
      ...(typeof crc32c === 'string' && BASE64_CRC32C.test(crc32c) ? {crc32c} : {}),
      ...(metadataSha256 ? {metadataSha256} : {}),
      ...(typeof generation === 'string' && /^\d{1,20}$/.test(generation) ? {version: generation} : {}),
      ...(typeof contentEncoding === 'string' && /^(x-)?gzip$/i.test(contentEncoding.trim()) ? {encoding: 'gzip' as const} : {}),
    }
  }

  /**
   * The JSON API's object metadata (md5, crc32c, sha256 metadata, encoding).
   * A bucket that allows public reads but not public metadata falls back to
   * a HEAD of the public URL.
   */
  override async stat(key: string, options: ReadOptions = {}): Promise<ObjectInfo | undefined> {
    assertSafeKey(key, this.display)
    const url = `${this.apiBase}/${encodeURIComponent(`${this.base}${key}`)}?fields=${encodeURIComponent(OBJECT_FIELDS)}`
    const what = `reading metadata of ${this.display}/${key}`
    try {
      const document = await withRetry('metadata read', () => this.document(url, what, options.signal))
      const {name: _name, ...info} = this.infoFrom(document, what)
      return {...info, key}
    } catch (error) {
      if (error instanceof NotFoundError) return undefined
      if (error instanceof OperationalError && /access denied \(HTTP 40[13]\)/.test(error.message)) return super.stat(key, options)
      throw error
    }
  }

  /** Every object under the prefix, page by page, through the JSON API's public listing. */
  override async *list(prefix: string, options: ReadOptions = {}): AsyncIterable<ObjectInfo> {
    const what = `listing ${joinKey(this.display, prefix)}`
    const seen = new Set<string>()
    let pageToken: string | undefined
    do {
      const query = new URLSearchParams({fields: `items(${OBJECT_FIELDS}),nextPageToken`, maxResults: String(PAGE_SIZE), prefix: `${this.base}${prefix}`})
      if (pageToken) query.set('pageToken', pageToken)
      let page: unknown
      try {
        page = await this.document(`${this.apiBase}?${query}`, what, options.signal)
      } catch (error) {
        if (error instanceof NotFoundError) throw new NotFoundError(`${what}: no such bucket (HTTP 404)`, {cause: error})
        if (error instanceof OperationalError && /access denied \(HTTP 40[13]\)/.test(error.message)) {
          throw new OperationalError(`${what}: the bucket does not allow anonymous listing (HTTP 401/403): use its gs:// location with Google credentials`, {cause: error})
        }
        throw error
      }
      if (!isRecord(page) || (page.items !== undefined && !Array.isArray(page.items))) throw new OperationalError(`${what}: unexpected JSON API response (no items list)`)
      for (const item of (page.items as unknown[] | undefined) ?? []) {
        const {name, ...info} = this.infoFrom(item, what)
        // Only names under the asked-for prefix, and no console "folder" placeholders.
        if (!name.startsWith(this.base) || name.endsWith('/')) continue
        yield {...info, key: name.slice(this.base.length)}
      }
      const next = page.nextPageToken
      if (next !== undefined && (typeof next !== 'string' || next === '' || seen.has(next))) throw new OperationalError(`${what}: the JSON API sent a bad or repeated page token`)
      if (next !== undefined) seen.add(next)
      pageToken = next
    } while (pageToken)
  }
}
