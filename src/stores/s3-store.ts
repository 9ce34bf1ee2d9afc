import {PassThrough, type Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'


import {awsRegion, proxySettings, requestTimeoutMs, s3EndpointSetting, silenceAwsSdkNodeWarning} from '../core/config.js'
import {ArtifactError, ConflictError, IntegrityError, NotFoundError, OperationalError, TransientError, UsageError} from '../core/errors.js'
import {assertSafeKey, joinKey} from '../core/keys.js'
import {pauseAt} from '../core/test-pause.js'
import type {BucketLocation} from '../core/location.js'
import {endpointUrl} from '../core/url-policy.js'
import {expectedSha256, md5FromEtag} from '../integrity/content-identity.js'
import {describeMismatch} from '../integrity/hash.js'
import {classifyNetworkError} from '../net/http-client.js'
import {withRetry} from '../net/retry.js'
import {hexToBase64, sha256FromBase64, sha256FromMetadata} from './checksums.js'
import {relayErrors} from './sdk-stream.js'
import type {ObjectBody, ObjectInfo, ReadOptions, ServiceChecksums, Store, WriteOptions} from './store.js'

// Types only, as aliases: the package itself is imported lazily where it is used.
type HeadObjectCommandOutput = import('@aws-sdk/client-s3').HeadObjectCommandOutput
type GetObjectCommandOutput = import('@aws-sdk/client-s3').GetObjectCommandOutput
type S3Client = import('@aws-sdk/client-s3').S3Client

/** PutObject and CopyObject take at most 5 GiB; larger objects would need multipart, which this store does not do. */
export const S3_SINGLE_PUT_LIMIT = 5 * 1024 ** 3

type S3Module = typeof import('@aws-sdk/client-s3')

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket'])
const BAD_CONTENT = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch', 'IncompleteBody'])
const ACCESS_DENIED = new Set(['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken'])
const RETRYABLE = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeTooSkewed', 'SlowDown', 'Throttling', 'ThrottlingException', 'InternalError', 'ServiceUnavailable', 'ConditionalRequestConflict'])

/** A full 4-byte CRC32C in base64, as S3 and GCS report it; undefined for anything else (a composite `…-N`). */
function crc32cFromBase64(value: string | undefined): string | undefined {
  return value && /^[A-Za-z0-9+/]{6}==$/.test(value) ? value : undefined
}

/** The endpoint from AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL (the AWS SDKs' own convention). */
export function s3Endpoint(): string | undefined {
  const setting = s3EndpointSetting()
  return setting && endpointUrl(setting, 'https://s3.example.com or http://127.0.0.1:7070').href.replace(/\/+$/, '')
}

/** What HeadObject and GetObject both say about an object's content. */
type ContentHeaders = Pick<HeadObjectCommandOutput, 'ChecksumType' | 'ChecksumSHA256' | 'ChecksumCRC32C' | 'ETag' | 'ServerSideEncryption' | 'SSECustomerAlgorithm'>

/**
 * The checksums S3 computed over the whole object. A COMPOSITE checksum (of
 * a multipart upload's parts) is not one of the content.
 */
function serviceDigests(headers: ContentHeaders): {sha256?: string; crc32c?: string} {
  if (headers.ChecksumType === 'COMPOSITE') return {}
  const sha256 = sha256FromBase64(headers.ChecksumSHA256)
  const crc32c = crc32cFromBase64(headers.ChecksumCRC32C)
  return {...(sha256 ? {sha256} : {}), ...(crc32c ? {crc32c} : {})}
}

/**
 * The MD5 an ETag stands for: only for objects stored in one PutObject
 * (no `-N` suffix) without SSE-KMS or SSE-C, whose ETags are not MD5s.
 */
function etagMd5(headers: ContentHeaders): string | undefined {
  if (headers.SSECustomerAlgorithm || (headers.ServerSideEncryption && headers.ServerSideEncryption !== 'AES256')) return undefined
  return md5FromEtag(headers.ETag)
}

/** The checksums a GetObject response carries for the whole object, for verifying its bytes in transit. */
export function checksumsOf(response: ContentHeaders): ServiceChecksums | undefined {
  const {crc32c, sha256} = serviceDigests(response)
  const md5 = etagMd5(response)
  if (!sha256 && !crc32c && !md5) return undefined
  const source = [sha256 && 'ChecksumSHA256', crc32c && 'ChecksumCRC32C', md5 && 'ETag'].filter(Boolean).join(', ')
  return {source, ...(sha256 ? {sha256} : {}), ...(crc32c ? {crc32c} : {}), ...(md5 ? {md5} : {})}
}

/** The SDK prints some warnings with console.warn unless it has a logger of its own. */
const quietLogger = {debug: () => undefined, error: () => undefined, info: () => undefined, trace: () => undefined, warn: () => undefined}

interface SdkError {
  name?: string
  message?: string
  Code?: string
  $retryable?: unknown
  $metadata?: {httpStatusCode?: number}
}

/** Translates whatever the S3 SDK throws into the tool's typed errors; `what` says what was being done. */
export function mapS3Error(error: unknown, what: string): Error {
  if (error instanceof ArtifactError) return error
  const sdk = (error ?? {}) as SdkError
  const name = sdk.Code ?? sdk.name ?? ''
  const status = sdk.$metadata?.httpStatusCode
  const detail = sdk.message && sdk.message !== 'UnknownError' ? `${name}: ${sdk.message}` : name || `HTTP ${status}`
  if (name === 'CredentialsProviderError') {
    return new OperationalError(`${what}: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`, {cause: error})
  }
  if (name === 'NoSuchBucket') return new NotFoundError(`${what}: the bucket does not exist`, {cause: error})
  if (NOT_FOUND.has(name) || status === 404) return new NotFoundError(`${what}: not found`, {cause: error})
  if (name === 'PreconditionFailed' || status === 412) return new ConflictError(`${what}: the object already exists`, {cause: error})
  if (BAD_CONTENT.has(name)) return new IntegrityError(`${what}: the server rejected the content (${detail}): nothing was stored`, {cause: error})
  if (ACCESS_DENIED.has(name) || status === 401 || status === 403) {
    return new OperationalError(`${what}: access denied (${name || `HTTP ${status}`}): check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID) and the bucket policy`, {cause: error})
  }
  if (RETRYABLE.has(name) || sdk.$retryable || status === 408 || status === 409 || status === 429 || (status !== undefined && status >= 500)) {
    return new TransientError(`${what}: ${detail}`, undefined, {cause: error})
  }
  if (status !== undefined) return new OperationalError(`${what}: ${detail} (HTTP ${status})`, {cause: error})
  return classifyNetworkError(error, what)
}

/**
 * `s3://bucket[/prefix]` through `@aws-sdk/client-s3`. Writes carry `sha256`
 * metadata and `ChecksumSHA256`, which the server checks against the bytes it
 * receives before it stores anything.
 */
export class S3Store implements Store {
  readonly provider = 's3'
  readonly display: string
  private readonly root: string
  private sdkPromise: Promise<{client: S3Client; sdk: S3Module}> | undefined

  constructor(
    private readonly location: BucketLocation,
    root: string,
  ) {
    this.root = joinKey(location.prefix, root)
    this.display = `s3://${joinKey(location.bucket, this.root)}`
  }

  private connect(): Promise<{client: S3Client; sdk: S3Module}> {
    this.sdkPromise ??= (async () => {
      const endpoint = s3Endpoint()
      silenceAwsSdkNodeWarning()
      const sdk = await import('@aws-sdk/client-s3')
      const timeout = requestTimeoutMs()
      const proxies = proxySettings()
      // Loaded only when a proxy variable is set: agents that tunnel https and forward plain http.
      const proxied = proxies ? await import('./s3-proxy.js') : undefined
      const agents = proxies && proxied ? await proxied.proxyAgents(proxies, timeout) : {}
      const client = new sdk.S3Client({
        ...(endpoint ? {endpoint, forcePathStyle: true} : {}),
        followRegionRedirects: true,
        logger: quietLogger,
        // Callers retry TransientErrors with the tool's one policy (src/net/retry.ts); SDK retries would multiply it.
        maxAttempts: 1,
        region: awsRegion(),
        requestHandler: {connectionTimeout: timeout, requestTimeout: timeout, ...agents},
        // Checksums are sent explicitly; otherwise the SDK switches uploads to aws-chunked trailers, which not every S3 server speaks.
        requestChecksumCalculation: 'WHEN_REQUIRED',
      })
      if (proxies && proxied) proxied.forwardPlainHttp(client.middlewareStack, proxies)
      return {client, sdk}
    })()
    return this.sdkPromise
  }

  /** The bucket key of a store key; an unsafe key is refused (IntegrityError) before any request names it. */
  private objectKey(key: string): string {
    assertSafeKey(key, this.display)
    return joinKey(this.root, key)
  }

  private where(key: string): string {
    return `${this.display}/${key}`
  }

  /**
   * The service's full-object checksums (ChecksumSHA256, ChecksumCRC32C) are
   * evidence; the `sha256` metadata a client wrote is kept apart as a claim,
   * so that a service checksum that disagrees with it always wins.
   */
  private infoFrom(key: string, head: HeadObjectCommandOutput): ObjectInfo {
    // Only checksums S3 computed itself count as evidence of the content; a client's sha256 metadata is a claim
    // (it can show content different, never the same).
    const metadataSha256 = sha256FromMetadata(head.Metadata?.sha256)
    return {
      key,
      size: head.ContentLength ?? 0,
      ...serviceDigests(head),
      ...(metadataSha256 ? {metadataSha256} : {}),
      ...(head.ETag ? {etag: head.ETag, version: head.ETag} : {}),
    }
  }

  private async head(key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    const {client, sdk} = await this.connect()
    try {
      const head = await client.send(new sdk.HeadObjectCommand({Bucket: this.location.bucket, ChecksumMode: 'ENABLED', Key: this.objectKey(key)}), {abortSignal: signal})
      return this.infoFrom(key, head)
    } catch (error) {
      const mapped = mapS3Error(error, `reading metadata of ${this.where(key)}`)
      if (mapped instanceof NotFoundError) return undefined
      throw mapped
    }
  }

  /** A single idempotent request, so it retries itself: callers stat freely. */
  async stat(key: string, options: ReadOptions = {}): Promise<ObjectInfo | undefined> {
    return withRetry('metadata read', () => this.head(key, options.signal))
  }

  async read(key: string, options: ReadOptions = {}): Promise<ObjectBody> {
    const where = this.where(key)
    const {client, sdk} = await this.connect()
    let response
    try {
      const range = options.firstBytes ? {Range: `bytes=0-${options.firstBytes - 1}`} : {}
      response = await client.send(new sdk.GetObjectCommand({Bucket: this.location.bucket, ChecksumMode: 'ENABLED', Key: this.objectKey(key), ...range}), {abortSignal: options.signal})
    } catch (error) {
      const mapped = mapS3Error(error, `downloading ${where}`)
      throw mapped instanceof NotFoundError ? new NotFoundError(`${where}: not found`, {cause: error}) : mapped
    }
    if (!response.Body) throw new TransientError(`downloading ${where}: the response has no body`)
    // The SDK checks a stored full-object checksum as the body arrives; a mismatch is a broken transfer, worth a retry.
    const body = relayErrors(
      response.Body as Readable,
      (error) => (/checksum mismatch/i.test((error as Error).message ?? '') ? new TransientError(`downloading ${where}: ${(error as Error).message}`) : classifyNetworkError(error, `downloading ${where}`)),
      options.signal,
    )
    const checksums = options.firstBytes ? undefined : checksumsOf(response as GetObjectCommandOutput)
    return {body, size: response.ContentLength, ...(checksums ? {checksums} : {})}
  }

  async write(key: string, body: Buffer | Readable, options: WriteOptions): Promise<ObjectInfo> {
    const where = this.where(key)
    if (options.size > S3_SINGLE_PUT_LIMIT) {
      throw new UsageError(`${where}: ${options.size} bytes is more than a single S3 PutObject takes (5 GiB); multipart uploads are not supported`)
    }
    if (Buffer.isBuffer(body)) {
      const mismatch = describeMismatch(body, options)
      if (mismatch) throw new IntegrityError(`content for ${where} does not match what was declared (${mismatch}): not written`)
    }
    // Saves sending a body only to have it refused: some servers (versitygw) answer 412 before reading it and reset the connection.
    if (options.precondition === 'absent' && (await this.head(key, options.signal))) throw new ConflictError(`${where} already exists`)
    if (options.precondition === 'absent') await pauseAt('s3:before-put')
    try {
      await this.put(key, body, options)
    } catch (error) {
      const outcome = await this.settleFailedPut(key, options, mapS3Error(error, `writing ${where}`))
      if (outcome instanceof Error) throw outcome
      return outcome
    }
    const written = await this.head(key, options.signal)
    if (!written) throw new TransientError(`${where}: the object just written is not visible yet`)
    // A server that keeps no checksum leaves the content to the caller's read-back, which rehashes it.
    if (written.size !== options.size || (written.sha256 !== undefined && written.sha256 !== options.sha256)) {
      const what = `the stored object (${written.size} bytes, sha256 ${written.sha256 ?? 'unknown'}) is not what was sent`
      // Under "only if absent", other content right after our put is another writer's: a server that checks
      // If-None-Match before receiving the body (versitygw) lets two concurrent puts through.
      if (options.precondition === 'absent') throw new ConflictError(`${where} was written by someone else at the same time: ${what}`)
      throw new IntegrityError(`${where}: ${what}`)
    }
    return written
  }

  /**
   * One PutObject. A stream body is fed through a pass-through because the SDK
   * does not watch the caller's stream for errors: a failing source (such as
   * a content check) aborts the request, so the server never sees a whole body.
   * The other way round, when the request fails first (versitygw answers 412
   * to If-None-Match before reading the body and resets the connection), the
   * pass-through is torn down under the feeding pipe, which then reports a
   * "premature close": that is the request's failure, not the source's, so
   * the request's own error (a conflict, or a reset that settleFailedPut
   * looks into) is the one reported. It used to lose to "Premature close"
   * (exit 1) whenever the body was still being fed.
   */
  private async put(key: string, body: Buffer | Readable, options: WriteOptions): Promise<void> {
    const {client, sdk} = await this.connect()
    const abort = new AbortController()
    const stopOnCallerAbort = (): void => abort.abort(options.signal?.reason)
    options.signal?.addEventListener('abort', stopOnCallerAbort, {once: true})
    let requestBody: Buffer | PassThrough = body as Buffer
    let sourceError: unknown
    let requestFailed = false
    let feeding: Promise<void> = Promise.resolve()
    if (!Buffer.isBuffer(body)) {
      const passThrough = new PassThrough({highWaterMark: 1 << 16})
      requestBody = passThrough
      feeding = pipeline(body, passThrough).catch((error: unknown) => {
        if (requestFailed) return
        sourceError ??= error
        abort.abort(error)
      })
    }
    const command = new sdk.PutObjectCommand({
      Body: requestBody,
      Bucket: this.location.bucket,
      ChecksumSHA256: hexToBase64(options.sha256),
      ContentLength: options.size,
      ContentType: options.contentType ?? 'application/octet-stream',
      Key: this.objectKey(key),
      Metadata: {sha256: options.sha256},
      ...(options.precondition === 'absent' ? {IfNoneMatch: '*'} : {}),
    })
    try {
      await client.send(command, {abortSignal: abort.signal})
    } catch (error) {
      requestFailed = true
      if (requestBody instanceof PassThrough) requestBody.destroy()
      await feeding
      if (sourceError !== undefined) throw sourceError instanceof ArtifactError ? sourceError : classifyNetworkError(sourceError, `reading the content for ${this.where(key)}`)
      throw error
    } finally {
      options.signal?.removeEventListener('abort', stopOnCallerAbort)
    }
    await feeding
  }

  /**
   * A conditional put that failed without a clear answer (reset, timeout) may
   * have been stored, or refused because another writer won. Looking settles
   * it: the same content is success, other content a conflict.
   */
  private async settleFailedPut(key: string, options: WriteOptions, failure: Error): Promise<Error | ObjectInfo> {
    if (options.precondition !== 'absent' || !(failure instanceof TransientError)) return failure
    const existing = await this.head(key).catch(() => undefined)
    if (!existing) return failure
    if (existing.sha256 === options.sha256 && existing.size === options.size) return existing
    return new ConflictError(`${this.where(key)} already exists`, {cause: failure})
  }

  async *list(prefix: string, options: ReadOptions = {}): AsyncIterable<ObjectInfo> {
    const {client, sdk} = await this.connect()
    const base = this.root === '' ? '' : `${this.root}/`
    // A plain string prefix, as S3 and FileStore treat it: 'v1.0' also matches 'v1.01/…'.
    const listPrefix = `${base}${prefix}`
    let token: string | undefined
    do {
      let page
      try {
        page = await client.send(new sdk.ListObjectsV2Command({Bucket: this.location.bucket, ContinuationToken: token, Prefix: listPrefix}), {abortSignal: options.signal})
      } catch (error) {
        throw mapS3Error(error, `listing ${joinKey(this.display, prefix)}`)
      }
      for (const object of page.Contents ?? []) {
        // Keys ending in '/' are directory markers, not objects of ours.
        if (!object.Key || object.Key.endsWith('/')) continue
        yield {key: object.Key.slice(base.length), size: object.Size ?? 0, ...(object.ETag ? {etag: object.ETag, version: object.ETag} : {})}
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }


  async remove(key: string): Promise<void> {
    const {client, sdk} = await this.connect()
    try {
      await client.send(new sdk.DeleteObjectCommand({Bucket: this.location.bucket, Key: this.objectKey(key)}))
    } catch (error) {
      // S3 answers 204 for a missing key; some servers say NoSuchKey. A missing bucket is still an error.
      if ((error as SdkError | undefined)?.name === 'NoSuchKey') return
      throw mapS3Error(error, `removing ${this.where(key)}`)
    }
  }

  /**
   * A server-side CopyObject of exactly the source version that was checked
   * (CopySourceIfMatch), with fresh `sha256` metadata and a SHA-256 checksum
   * the server computes, which must equal the expected digest. S3 enforces
   * If-None-Match on copies; versitygw ignores it, hence the look first.
   */
  async copyWithin(source: Store, sourceKey: string, key: string, options: WriteOptions): Promise<ObjectInfo | undefined> {
    if (!(source instanceof S3Store)) return undefined
    const where = this.where(key)
    const from = source.where(sourceKey)
    const sourceInfo = await source.head(sourceKey, options.signal)
    if (!sourceInfo) throw new NotFoundError(`${from}: not found`)
    const sourceSha256 = expectedSha256(sourceInfo)
    if (sourceInfo.size !== options.size || (sourceSha256 !== undefined && sourceSha256 !== options.sha256)) {
      throw new IntegrityError(`${from} (${sourceInfo.size} bytes, sha256 ${sourceSha256 ?? 'unknown'}) is not the expected ${options.size} bytes with sha256 ${options.sha256}: not copied`)
    }
    if (options.size > S3_SINGLE_PUT_LIMIT) throw new UsageError(`${from}: objects over 5 GiB cannot be copied in one CopyObject`)
    if (options.precondition === 'absent' && (await this.head(key, options.signal))) throw new ConflictError(`${where} already exists`)
    const {client, sdk} = await this.connect()
    const encodedKey = source.objectKey(sourceKey).split('/').map((segment) => encodeURIComponent(segment)).join('/')
    let copiedChecksum: string | undefined
    try {
      const result = await client.send(
        new sdk.CopyObjectCommand({
          Bucket: this.location.bucket,
          ChecksumAlgorithm: 'SHA256',
          ContentType: options.contentType ?? 'application/octet-stream',
          CopySource: `${source.location.bucket}/${encodedKey}`,
          ...(sourceInfo.version ? {CopySourceIfMatch: sourceInfo.version} : {}),
          Key: this.objectKey(key),
          Metadata: {sha256: options.sha256},
          MetadataDirective: 'REPLACE',
          ...(options.precondition === 'absent' ? {IfNoneMatch: '*'} : {}),
        }),
        {abortSignal: options.signal},
      )
      copiedChecksum = sha256FromBase64(result.CopyObjectResult?.ChecksumSHA256)
    } catch (error) {
      const mapped = mapS3Error(error, `copying ${from} to ${where}`)
      throw mapped instanceof ConflictError ? new ConflictError(`${where} already exists`, {cause: error}) : mapped
    }
    const copied = await this.head(key, options.signal)
    if (!copied) throw new TransientError(`${where}: the copy from ${from} is not visible yet`)
    // The checksum the server computed while copying; without one, the caller's confirmation rehashes the copy.
    const serverDigest = copiedChecksum ?? copied.sha256
    if (copied.size !== options.size || (serverDigest !== undefined && serverDigest !== options.sha256)) {
      await this.remove(key).catch(() => undefined)
      throw new IntegrityError(`${where}: the copy from ${from} has sha256 ${serverDigest ?? 'unknown'} and ${copied.size} bytes, not ${options.sha256} and ${options.size}`)
    }
    return copied
  }

  async close(): Promise<void> {
    const connected = this.sdkPromise
    this.sdkPromise = undefined
    if (connected) (await connected).client.destroy()
  }
}
