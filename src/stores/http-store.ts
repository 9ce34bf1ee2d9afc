import {NotFoundError, UsageError} from '../core/errors.js'
import {assertSafeKey, joinKey} from '../core/keys.js'
import type {HttpLocation} from '../core/location.js'
import {type HttpResponse, contentLength, httpRequest, responseHeader} from '../net/http-client.js'
import {withRetry} from '../net/retry.js'
import {sha256FromMetadata} from './checksums.js'
import type {ObjectBody, ObjectInfo, ReadOptions, ServiceChecksums, Store} from './store.js'

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

/** `x-goog-hash`, which GCS sends as one header line per checksum, joined. */
function googHash(response: HttpResponse): string | undefined {
  const value = response.headers['x-goog-hash']
  return Array.isArray(value) ? value.join(',') : value
}

/**
 * The service's checksums of a whole object as GCS sends them with its
 * content (`x-goog-hash`). Not for a ranged read, and not for an encoded
 * body: the checksums are of the stored bytes, which were not what arrived.
 */
function checksumsOf(response: HttpResponse, options: ReadOptions): {checksums?: ServiceChecksums} {
  if (options.firstBytes || response.status !== 200) return {}
  const encoding = responseHeader(response.headers, 'content-encoding')
  if (encoding !== undefined && encoding !== 'identity') return {}
  const {crc32c, md5} = parseGoogHash(googHash(response))
  if (!crc32c && !md5) return {}
  return {checksums: {source: 'x-goog-hash', ...(crc32c ? {crc32c} : {}), ...(md5 ? {md5} : {})}}
}

/** Read-only access to a public bucket over HTTPS: `https://host/bucket[/prefix]/{key}`. */
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
      const response = await withRetry('metadata read', () => httpRequest(this.url(key), {method: 'HEAD', signal: options.signal}))
      response.body.resume()
      // Metadata a client wrote is a claim, kept apart from the service's x-goog-hash.
      const metadataSha256 = sha256FromMetadata(responseHeader(response.headers, 'x-goog-meta-sha256') ?? responseHeader(response.headers, 'x-amz-meta-sha256'))
      return {
        key,
        size: contentLength(response) ?? 0,
        ...parseGoogHash(googHash(response)),
        ...(metadataSha256 ? {metadataSha256} : {}),
      }
    } catch (error) {
      if (error instanceof NotFoundError) return undefined
      throw error
    }
  }

  async read(key: string, options: ReadOptions = {}): Promise<ObjectBody> {
    const headers = options.firstBytes ? {range: `bytes=0-${options.firstBytes - 1}`} : undefined
    const response = await httpRequest(this.url(key), {headers, signal: options.signal})
    return {body: response.body, size: contentLength(response), ...checksumsOf(response, options)}
  }

  async write(): Promise<ObjectInfo> {
    throw new UsageError(`${this.display} is read-only over ${this.location.scheme}: publish with gs://, s3:// or a directory`)
  }

  // eslint-disable-next-line require-yield
  async *list(): AsyncIterable<ObjectInfo> {
    throw new UsageError(`cannot list ${this.display} over ${this.location.scheme}: use its gs:// or s3:// location`)
  }

  async remove(): Promise<void> {
    throw new UsageError(`${this.display} is read-only`)
  }
}
