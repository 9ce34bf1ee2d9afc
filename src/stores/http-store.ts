import {NotFoundError, UsageError} from '../core/errors.js'
import {assertSafeKey, joinKey} from '../core/keys.js'
import type {HttpLocation} from '../core/location.js'
import {type HttpResponse, contentLength, httpRequest, responseHeader} from '../net/http-client.js'
import {decodeGzipBody} from '../net/gzip-body.js'
import {withRetry} from '../net/retry.js'
import {sha256FromMetadata} from './checksums.js'
import type {ObjectBody, ObjectInfo, ReadOptions, ServiceChecksums, Store} from './store.js'

const ACCEPT_GZIP: Readonly<Record<string, string>> = {'accept-encoding': 'gzip'}

/** Parses GCS's `x-goog-hash: crc32c=…,md5=…` header. */
export function parseGoogHash(value: string | undefined): {crc32c?: string; md5?: string} {
  const result: {crc32c?: string; md5?: string} = {}
  for (const part of (value ?? '').split(',')) {
    const [name, ...rest] = part.trim().split('=')
    const digest = rest.join('=')
    if (name === 'crc32c' && digest) result.crc32c = digest
    if (name === 'md5' && digest) result.md5 = digest
  }
  return result
}

/** Every value of a header that may come as several lines (GCS sends x-goog-hash twice), joined as one list. */
export function headerList(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

/**
 * Whether a response's body is gzip-encoded, or with `stored`, whether the
 * object is stored so (`gsutil cp -Z`), even when GCS served it decompressed.
 */
function gzipEncoded(headers: HttpResponse['headers'], stored = false): boolean {
  const encoding = (responseHeader(headers, 'content-encoding') ?? (stored ? responseHeader(headers, 'x-goog-stored-content-encoding') : undefined) ?? '').trim().toLowerCase()
  return encoding === 'gzip' || encoding === 'x-gzip'
}

/**
 * The service's checksums of a whole object as GCS sends them with its
 * content (`x-goog-hash`). Not for a ranged read, and not for an encoded
 * body: the checksums are of the stored bytes, which were not what arrived
 * (gzip bodies are checked against them while decoding, in net/gzip-body.ts).
 */
function checksumsOf(response: HttpResponse, options: ReadOptions): {checksums?: ServiceChecksums} {
  if (options.firstBytes || response.status !== 200 || gzipEncoded(response.headers)) return {}
  const {crc32c, md5} = parseGoogHash(headerList(response.headers, 'x-goog-hash'))
  if (!crc32c && !md5) return {}
  return {checksums: {source: 'x-goog-hash', ...(crc32c ? {crc32c} : {}), ...(md5 ? {md5} : {})}}
}

/**
 * Read-only access to a public bucket over HTTPS: `https://host/bucket[/prefix]/{key}`.
 * Objects stored gzip-encoded are asked for as stored and decoded here
 * (net/gzip-body.ts), so readers see the decoded bytes.
 */
export class HttpStore implements Store {
  readonly provider = 'http'
  readonly display: string

  constructor(
    private readonly location: HttpLocation,
    private readonly root: string,
  ) {
    this.display = joinKey(location.display, root)
  }

  url(key: string): string {
    assertSafeKey(key, this.display)
    const path = joinKey(this.root, key).split('/').map((segment) => encodeURIComponent(segment)).join('/')
    return `${this.location.baseUrl}/${path}`
  }

  /** A single idempotent request, so it retries itself: callers stat freely. */
  async stat(key: string, options: ReadOptions = {}): Promise<ObjectInfo | undefined> {
    try {
      const response = await withRetry('metadata read', () => httpRequest(this.url(key), {headers: ACCEPT_GZIP, method: 'HEAD', signal: options.signal}))
      response.body.resume()
      // Metadata a client wrote is a claim, kept apart from the service's x-goog-hash.
      const metadataSha256 = sha256FromMetadata(responseHeader(response.headers, 'x-goog-meta-sha256') ?? responseHeader(response.headers, 'x-amz-meta-sha256'))
      return {
        key,
        size: contentLength(response) ?? 0,
        ...parseGoogHash(headerList(response.headers, 'x-goog-hash')),
        ...(metadataSha256 ? {metadataSha256} : {}),
        // Size and digests then describe the stored compressed bytes, not the content.
        ...(gzipEncoded(response.headers, true) ? {encoding: 'gzip' as const} : {}),
      }
    } catch (error) {
      if (error instanceof NotFoundError) return undefined
      throw error
    }
  }

  /**
   * A gzip-encoded object comes as stored (GCS decompresses otherwise, and
   * then nothing can check the bytes against its x-goog-hash) and is decoded
   * here, its stored length and md5 checked; its decoded size is unknown
   * until the end, so none is announced.
   */
  async read(key: string, options: ReadOptions = {}): Promise<ObjectBody> {
    // A ranged read asks for identity bytes: a range of compressed bytes would not decode on its own.
    const headers = options.firstBytes ? {range: `bytes=0-${options.firstBytes - 1}`} : ACCEPT_GZIP
    const response = await httpRequest(this.url(key), {headers, signal: options.signal})
    if (!gzipEncoded(response.headers)) return {body: response.body, size: contentLength(response), ...checksumsOf(response, options)}
    const partial = response.status === 206
    const storedMd5 = partial ? undefined : parseGoogHash(headerList(response.headers, 'x-goog-hash')).md5
    const body = await decodeGzipBody(response.body, {
      partial,
      signal: options.signal,
      where: `${this.display}/${key}`,
      ...(partial ? {} : {storedBytes: contentLength(response), storedMd5}),
    })
    return {body, ...(storedMd5 ? {verifiedInTransit: 'md5 of the stored gzip bytes (x-goog-hash)'} : {})}
  }

  async write(): Promise<ObjectInfo> {
    throw new UsageError(`${this.display} is read-only over ${this.location.scheme}: publish with gs://, s3:// or a directory`)
  }

  // eslint-disable-next-line require-yield
  async *list(_prefix: string, _options?: ReadOptions): AsyncIterable<ObjectInfo> {
    throw new UsageError(`cannot list ${this.display} over ${this.location.scheme}: use its gs:// or s3:// location`)
  }

  async remove(): Promise<void> {
    throw new UsageError(`${this.display} is read-only`)
  }
}
