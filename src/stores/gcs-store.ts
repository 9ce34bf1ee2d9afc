import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {ArtifactError, ConflictError, IntegrityError, NotFoundError, OperationalError, TransientError} from '../core/errors.js'
import {assertSafeKey, joinKey} from '../core/keys.js'
import type {BucketLocation} from '../core/location.js'
import {expectedSha256} from '../integrity/content-identity.js'
import {HashingStream, declaredContent, describeMismatch, md5Base64} from '../integrity/hash.js'
import {classifyNetworkError} from '../net/http-client.js'
import {decodeGzipBody} from '../net/gzip-body.js'
import {withRetry} from '../net/retry.js'
import {sha256FromMetadata} from './checksums.js'
import {gcsEndpoint} from './gcs-endpoint.js'
import {GcsPublicStore} from './gcs-public-store.js'
import {collectBody, relayErrors} from './sdk-stream.js'
import type {ObjectBody, ObjectInfo, ReadOptions, Store, WriteOptions} from './store.js'

// Types only, as aliases: the package itself is imported lazily where it is used.
type Bucket = import('@google-cloud/storage').Bucket
type File = import('@google-cloud/storage').File
type FileMetadata = import('@google-cloud/storage').FileMetadata
type GetFilesOptions = import('@google-cloud/storage').GetFilesOptions
type Storage = import('@google-cloud/storage').Storage

/**
 * Objects up to this size are buffered, checked against their sha256, and sent
 * in one request that declares their MD5, so the server itself verifies them.
 * Larger ones are streamed (see `writeStreaming`).
 */
export const DEFAULT_IN_MEMORY_UPLOAD_LIMIT = 32 * 1024 * 1024
/** Resumable uploads send chunks of this size, each a complete request. */
const RESUMABLE_CHUNK_SIZE = 8 * 1024 * 1024

export {type GcsEndpoint, gcsEndpoint} from './gcs-endpoint.js'

function statusOf(error: unknown): number | undefined {
  const candidate = error as {code?: unknown; status?: unknown; response?: {status?: unknown}} | undefined
  for (const value of [candidate?.code, candidate?.response?.status, candidate?.status]) {
    if (typeof value === 'number') return value
  }
  return undefined
}

/** Translates whatever the GCS SDK throws into the tool's typed errors; `what` says what was being done. */
export function mapGcsError(error: unknown, what: string): Error {
  if (error instanceof ArtifactError) return error
  const message = (error as Error | undefined)?.message ?? String(error)
  const code = (error as {code?: unknown} | undefined)?.code
  if (/could not load the default credentials|unable to detect a project id/i.test(message)) {
    return new OperationalError(
      `${what}: no Google credentials: run 'gcloud auth application-default login' or set GOOGLE_APPLICATION_CREDENTIALS (public objects can be read over https://storage.googleapis.com/BUCKET)`,
      {cause: error},
    )
  }
  if (code === 'CONTENT_DOWNLOAD_MISMATCH') return new TransientError(`${what}: downloaded bytes do not match the object's checksum`, undefined, {cause: error})
  const status = statusOf(error)
  if (status === 404) return new NotFoundError(`${what}: not found (HTTP 404)`, {cause: error})
  if (status === 412) return new ConflictError(`${what}: the object already exists (HTTP 412)`, {cause: error})
  if (status === 401 || status === 403) {
    return new OperationalError(`${what}: access denied (HTTP ${status}): check the Application Default Credentials and the bucket's IAM`, {cause: error})
  }
  if (status === 400 && /md5|crc32c|hash/i.test(message)) {
    return new IntegrityError(`${what}: the server rejected the content: ${message}`, {cause: error})
  }
  if (status === 408 || status === 429 || (status !== undefined && status >= 500)) {
    return new TransientError(`${what}: HTTP ${status} (${message})`, undefined, {cause: error})
  }
  if (status !== undefined) return new OperationalError(`${what}: HTTP ${status} (${message})`, {cause: error})
  return classifyNetworkError(error, what)
}

/** Stored gzip-encoded, as `gsutil cp -Z` uploads. */
function isGzip(metadata: FileMetadata): boolean {
  return /^(x-)?gzip$/i.test(String(metadata.contentEncoding ?? '').trim())
}

/** The gs:// twin of each anonymous view used as a copy source, so that its client (and token) is made once. */
const gsViews = new WeakMap<GcsPublicStore, GcsStore>()

export interface GcsStoreOptions {
  readonly inMemoryUploadLimit?: number
}

/**
 * `gs://bucket[/prefix]` through `@google-cloud/storage`. Every write carries
 * `sha256` metadata; small writes also declare their MD5 so that GCS rejects
 * bytes that differ from what was hashed here.
 */
export class GcsStore implements Store {
  readonly provider = 'gcs'
  readonly display: string
  private readonly root: string
  private readonly inMemoryUploadLimit: number
  private bucketPromise: Promise<Bucket> | undefined

  constructor(
    private readonly location: BucketLocation,
    root: string,
    options: GcsStoreOptions = {},
  ) {
    this.root = joinKey(location.prefix, root)
    this.display = `gs://${joinKey(location.bucket, this.root)}`
    this.inMemoryUploadLimit = options.inMemoryUploadLimit ?? DEFAULT_IN_MEMORY_UPLOAD_LIMIT
  }

  private bucket(): Promise<Bucket> {
    this.bucketPromise ??= (async () => {
      const endpoint = gcsEndpoint()
      const {Storage} = await import('@google-cloud/storage')
      const storage: Storage = new Storage({
        ...(endpoint ? {apiEndpoint: endpoint.apiEndpoint, useAuthWithCustomEndpoint: endpoint.authenticate} : {}),
        // Callers retry TransientErrors with the tool's one policy (src/net/retry.ts); SDK retries would multiply it.
        retryOptions: {autoRetry: false},
      })
      // With STORAGE_EMULATOR_HOST set, the SDK would use it verbatim as the JSON API base; keep both bases consistent.
      if (endpoint) storage.baseUrl = `${endpoint.apiEndpoint}/storage/v1`
      return storage.bucket(this.location.bucket)
    })()
    return this.bucketPromise
  }

  /** The object name of a store key; an unsafe key is refused (IntegrityError) before any request names it. */
  private objectName(key: string): string {
    assertSafeKey(key, this.display)
    return joinKey(this.root, key)
  }

  private where(key: string): string {
    return `${this.display}/${key}`
  }

  /** md5Hash and crc32c are the service's; the `sha256` metadata is a client's claim, kept apart. */
  private infoFrom(key: string, metadata: FileMetadata): ObjectInfo {
    const metadataSha256 = sha256FromMetadata(metadata.metadata?.sha256)
    return {
      key,
      size: Number(metadata.size ?? 0),
      ...(metadataSha256 ? {metadataSha256} : {}),
      ...(metadata.md5Hash ? {md5: metadata.md5Hash} : {}),
      ...(metadata.crc32c ? {crc32c: metadata.crc32c} : {}),
      ...(metadata.generation === undefined ? {} : {version: String(metadata.generation)}),
      ...(isGzip(metadata) ? {encoding: 'gzip' as const} : {}),
    }
  }

  /** The object's metadata, or undefined when it does not exist. */
  private async metadataOf(key: string): Promise<FileMetadata | undefined> {
    const file = (await this.bucket()).file(this.objectName(key))
    try {
      const [metadata] = await file.getMetadata()
      return metadata
    } catch (error) {
      const mapped = mapGcsError(error, `reading metadata of ${this.where(key)}`)
      if (mapped instanceof NotFoundError) return undefined
      throw mapped
    }
  }

  /** A single idempotent request, so it retries itself: callers stat freely. */
  async stat(key: string): Promise<ObjectInfo | undefined> {
    const metadata = await withRetry('metadata read', () => this.metadataOf(key))
    return metadata && this.infoFrom(key, metadata)
  }

  /**
   * Reads the generation that was just looked up, so size and content belong
   * to the same object even if it is replaced meanwhile. The SDK checks the
   * bytes against the object's crc32c (or md5) as they arrive.
   */
  async read(key: string, options: ReadOptions = {}): Promise<ObjectBody> {
    const where = this.where(key)
    const metadata = await this.metadataOf(key)
    if (!metadata) throw new NotFoundError(`${where}: not found`)
    const file = (await this.bucket()).file(this.objectName(key), metadata.generation === undefined ? {} : {generation: metadata.generation})
    const fullSize = Number(metadata.size ?? 0)
    if (isGzip(metadata)) {
      // Stored gzip-encoded (gsutil cp -Z): the SDK asks for the stored bytes
      // (Accept-Encoding: gzip); decode them here, checking their length and
      // md5 on the way, so that callers see, and check, the decoded content.
      const raw = relayErrors(file.createReadStream({decompress: false, validation: false}), (error) => mapGcsError(error, `downloading ${where}`))
      const body = await decodeGzipBody(raw, {signal: options.signal, storedBytes: fullSize, storedMd5: metadata.md5Hash, where})
      return {body, ...(metadata.md5Hash ? {verifiedInTransit: 'md5 of the stored gzip bytes (the object metadata)'} : {})}
    }
    const size = options.firstBytes ? Math.min(options.firstBytes, fullSize) : fullSize
    // The SDK's crc32c check runs in JavaScript and cost half the CPU of a streamed copy; every caller already checks sha256.
    const stream = file.createReadStream({validation: false, ...(options.firstBytes ? {end: Math.max(0, size - 1), start: 0} : {})})
    const body = relayErrors(stream, (error) => mapGcsError(error, `downloading ${where}`), options.signal)
    // The generation's own checksums, for callers that verify the bytes against them (a download without a sidecar).
    const whole = !options.firstBytes && metadata.contentEncoding !== 'gzip'
    const checksums = whole && (metadata.md5Hash || metadata.crc32c) ? {source: 'the object metadata', ...(metadata.md5Hash ? {md5: metadata.md5Hash} : {}), ...(metadata.crc32c ? {crc32c: metadata.crc32c} : {})} : undefined
    return {body, size, ...(checksums ? {checksums} : {})}
  }

  async write(key: string, body: Buffer | Readable, options: WriteOptions): Promise<ObjectInfo> {
    const where = this.where(key)
    const file = (await this.bucket()).file(this.objectName(key))
    if (options.size > this.inMemoryUploadLimit && !Buffer.isBuffer(body)) return this.writeStreaming(key, file, body, options)
    const content = Buffer.isBuffer(body) ? body : await collectBody(body, options.size, where)
    const mismatch = describeMismatch(content, options)
    if (mismatch) throw new IntegrityError(`content for ${where} does not match what was declared (${mismatch}): not written`)
    const md5Hash = md5Base64(content)
    try {
      await file.save(content, {
        metadata: {contentType: options.contentType ?? 'application/octet-stream', md5Hash, metadata: {sha256: options.sha256}},
        ...this.precondition(options),
        resumable: false,
        // The server checks the declared md5Hash; the SDK's own after-the-fact check would delete without a precondition.
        validation: false,
      })
    } catch (error) {
      throw this.writeError(error, where)
    }
    return this.checkStored(key, file, {md5: md5Hash, size: options.size})
  }

  /**
   * Large bodies: a resumable upload in chunks. The in-flight check fails the
   * stream before the final chunk, so wrong content is never finalised; the
   * MD5 of what was sent is compared with the service's afterwards.
   */
  private async writeStreaming(key: string, file: File, body: Readable, options: WriteOptions): Promise<ObjectInfo> {
    const where = this.where(key)
    const check = new HashingStream({expect: declaredContent(options, where), md5: true})
    const upload = file.createWriteStream({
      chunkSize: RESUMABLE_CHUNK_SIZE,
      metadata: {contentType: options.contentType ?? 'application/octet-stream', metadata: {sha256: options.sha256}},
      ...this.precondition(options),
      resumable: true,
      validation: false,
    })
    try {
      await pipeline(body, check, upload)
    } catch (error) {
      throw this.writeError(error, where)
    }
    return this.checkStored(key, file, {md5: check.md5Base64(), size: options.size})
  }

  private precondition(options: WriteOptions): {preconditionOpts?: {ifGenerationMatch: number}} {
    // ifGenerationMatch=0 also makes a retried upload safe: a lost response shows up as a conflict with our own content.
    return options.precondition === 'absent' ? {preconditionOpts: {ifGenerationMatch: 0}} : {}
  }

  private writeError(error: unknown, where: string): Error {
    const mapped = mapGcsError(error, `writing ${where}`)
    return mapped instanceof ConflictError ? new ConflictError(`${where} already exists`, {cause: error}) : mapped
  }

  /**
   * Compares the service's own view of the new object (size, and the md5 or
   * crc32c it computed) with what was sent; a stranger is removed, by generation.
   */
  private async checkStored(key: string, file: File, sent: {size: number; md5?: string; crc32c?: string}): Promise<ObjectInfo> {
    const metadata = file.metadata
    const info = this.infoFrom(key, metadata)
    const differs =
      info.size !== sent.size ||
      (sent.md5 !== undefined && info.md5 !== undefined && info.md5 !== sent.md5) ||
      (sent.crc32c !== undefined && info.crc32c !== undefined && info.crc32c !== sent.crc32c)
    if (differs) {
      await file.delete({ifGenerationMatch: metadata.generation}).catch(() => undefined)
      throw new IntegrityError(`${this.where(key)}: the stored object (${info.size} bytes, md5 ${info.md5 ?? '?'}) is not what was sent (${sent.size} bytes, md5 ${sent.md5 ?? '?'}); it was removed`)
    }
    return info
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const bucket = await this.bucket()
    const base = this.root === '' ? '' : `${this.root}/`
    // A plain string prefix, as GCS and FileStore treat it: 'v1.0' also matches 'v1.01/…'.
    let query: GetFilesOptions | undefined = {autoPaginate: false, maxResults: 1000, prefix: `${base}${prefix}`}
    while (query) {
      let files: File[]
      let next: GetFilesOptions | null | undefined
      try {
        ;[files, next] = await bucket.getFiles(query)
      } catch (error) {
        throw mapGcsError(error, `listing ${joinKey(this.display, prefix)}`)
      }
      for (const file of files) {
        // Zero-byte "folder" placeholders made by consoles are not objects of ours.
        if (file.name.endsWith('/')) continue
        yield this.infoFrom(file.name.slice(base.length), file.metadata)
      }
      query = next ?? undefined
    }
  }


  async remove(key: string): Promise<void> {
    const file = (await this.bucket()).file(this.objectName(key))
    try {
      await file.delete({ignoreNotFound: true})
    } catch (error) {
      throw mapGcsError(error, `removing ${this.where(key)}`)
    }
  }

  /**
   * A server-side rewrite of exactly the source generation that was checked.
   * GCS enforces ifGenerationMatch=0 on the destination atomically; emulators
   * such as fake-gcs-server ignore it on rewrites, hence the look first.
   */
  async copyWithin(source: Store, sourceKey: string, key: string, options: WriteOptions): Promise<ObjectInfo | undefined> {
    if (source instanceof GcsPublicStore) {
      // The anonymous view of a public bucket is readable with this store's credentials too: copy server side.
      let viewed = gsViews.get(source)
      if (!viewed) {
        const {location, root} = source.asBucketLocation()
        viewed = new GcsStore(location, root)
        gsViews.set(source, viewed)
      }
      return this.copyWithin(viewed, sourceKey, key, options)
    }
    if (!(source instanceof GcsStore)) return undefined
    const where = this.where(key)
    const from = source.where(sourceKey)
    const sourceMetadata = await source.metadataOf(sourceKey)
    if (!sourceMetadata) throw new NotFoundError(`${from}: not found`)
    // A rewrite would keep the gzip encoding, and a bucket mounted on a host would then serve compressed bytes: stream it, decoded.
    if (isGzip(sourceMetadata)) return undefined
    const sourceInfo = source.infoFrom(sourceKey, sourceMetadata)
    const sourceSha256 = expectedSha256(sourceInfo)
    if (sourceInfo.size !== options.size || (sourceSha256 !== undefined && sourceSha256 !== options.sha256)) {
      throw new IntegrityError(`${from} (${sourceInfo.size} bytes, sha256 ${sourceSha256 ?? 'unknown'}) is not the expected ${options.size} bytes with sha256 ${options.sha256}: not copied`)
    }
    if (options.precondition === 'absent' && (await this.metadataOf(key))) throw new ConflictError(`${where} already exists`)
    const sourceFile = (await source.bucket()).file(source.objectName(sourceKey), {generation: sourceMetadata.generation})
    const destination = (await this.bucket()).file(this.objectName(key))
    try {
      await sourceFile.copy(destination, {
        contentType: options.contentType ?? sourceMetadata.contentType ?? 'application/octet-stream',
        metadata: {sha256: options.sha256},
        ...this.precondition(options),
      })
    } catch (error) {
      throw this.writeError(error, `${where} (copy from ${from})`)
    }
    const copied = await this.metadataOf(key)
    if (!copied) throw new TransientError(`${where}: the copy from ${from} is not visible yet`)
    destination.metadata = copied
    return this.checkStored(key, destination, {crc32c: sourceInfo.crc32c, md5: sourceInfo.md5, size: sourceInfo.size})
  }
}
