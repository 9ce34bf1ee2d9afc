import {NotFoundError, UsageError} from '../core/errors.js'
import {joinKey} from '../core/keys.js'
import type {HttpLocation} from '../core/location.js'
import {contentLength, httpRequest, responseHeader} from '../net/http-client.js'
import {withRetry} from '../net/retry.js'
import type {ObjectBody, ObjectInfo, ReadOptions, Store} from './store.js'

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
    const path = joinKey(this.root, key).split('/').map((segment) => encodeURIComponent(segment)).join('/')
    return `${this.location.baseUrl}/${path}`
  }

  /** A single idempotent request, so it retries itself: callers stat freely. */
  async stat(key: string, options: ReadOptions = {}): Promise<ObjectInfo | undefined> {
    try {
      const response = await withRetry('metadata read', () => httpRequest(this.url(key), {method: 'HEAD', signal: options.signal}))
      response.body.resume()
      const sha256 = responseHeader(response.headers, 'x-goog-meta-sha256') ?? responseHeader(response.headers, 'x-amz-meta-sha256')
      return {
        key,
        size: contentLength(response) ?? 0,
        ...parseGoogHash(responseHeader(response.headers, 'x-goog-hash')),
        ...(sha256 ? {sha256: sha256.toLowerCase()} : {}),
      }
    } catch (error) {
      if (error instanceof NotFoundError) return undefined
      throw error
    }
  }

  async read(key: string, options: ReadOptions = {}): Promise<ObjectBody> {
    const headers = options.firstBytes ? {range: `bytes=0-${options.firstBytes - 1}`} : undefined
    const response = await httpRequest(this.url(key), {headers, signal: options.signal})
    return {body: response.body, size: contentLength(response)}
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
