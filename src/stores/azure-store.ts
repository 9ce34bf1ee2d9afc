import {createHash, randomBytes} from 'node:crypto'
import {Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {azureConnectionString, azureCredentialTimeoutMs, requestTimeoutMs} from '../core/config.js'
import {ArtifactError, ConflictError, IntegrityError, NotFoundError, OperationalError, TransientError, UsageError} from '../core/errors.js'
import {assertSafeKey, joinKey} from '../core/keys.js'
import type {BucketLocation} from '../core/location.js'
import {isAllowedTransport} from '../core/url-policy.js'
import {HashingStream, declaredContent, describeMismatch, md5Base64} from '../integrity/hash.js'
import {classifyNetworkError} from '../net/http-client.js'
import {withRetry} from '../net/retry.js'
import {sha256FromMetadata} from './checksums.js'
import {relayErrors} from './sdk-stream.js'
import type {ObjectBody, ObjectInfo, ReadOptions, Store, WriteOptions} from './store.js'

// Types only, as aliases: the packages themselves are imported lazily where they are used.
type BlobItem = import('@azure/storage-blob').BlobItem
type BlobServiceClient = import('@azure/storage-blob').BlobServiceClient
type BlockBlobClient = import('@azure/storage-blob').BlockBlobClient
type BlockBlobUploadOptions = import('@azure/storage-blob').BlockBlobUploadOptions
type ContainerClient = import('@azure/storage-blob').ContainerClient
type StoragePipelineOptions = import('@azure/storage-blob').StoragePipelineOptions
type AccessToken = import('@azure/identity').AccessToken
type GetTokenOptions = import('@azure/identity').GetTokenOptions
type TokenCredential = import('@azure/identity').TokenCredential

/**
 * Without a source MD5 (see STREAMED_PUT_LIMIT), bodies up to this size are
 * held (in pooled blocks), checked against their sha256, and sent in one Put
 * Blob that declares the MD5 hashed here, which the service checks and then
 * reports as the blob's own Content-MD5. Larger ones go up in blocks. Either
 * way such a copy holds at most 8 MiB.
 */
export const SINGLE_PUT_LIMIT = 8 * 1024 * 1024
/**
 * A stream whose MD5 the source's service computed (WriteOptions.md5) goes up
 * as it arrives, in one Put Blob that declares that MD5, up to this size (Put
 * Blob's limit in every service version, and Azurite's). Nothing is held: the
 * service refuses bytes that differ from the MD5, and the sha256 check fails
 * the body before its last byte when they differ from the declared digest, so
 * the service never sees the declared length and keeps nothing.
 */
export const STREAMED_PUT_LIMIT = 256 * 1024 * 1024
/** Block size for larger bodies; each block is one Put Block whose MD5 the service checks. */
const BLOCK_SIZE = 4 * 1024 * 1024
/**
 * Blocks of one upload in flight while the next one fills. With one, a
 * streamed GCS → Azure copy of 175 MB peaked at about 165 MB RSS; two added
 * 10–20 MB and no measurable speed against Azurite, which the copies running
 * side by side keep busy anyway.
 */
const BLOCKS_IN_FLIGHT = 1
/** Azure's limit of blocks per blob. */
const MAX_BLOCKS = 50_000
/** Uploads may take this long per byte on top of the request timeout (DESIGN's floor speed, 1 KiB/s). */
const UPLOAD_MS_PER_BYTE = 1 / 1024
/** The OAuth scope of Azure Storage, as the SDK asks for it. */
const STORAGE_SCOPE = 'https://storage.azure.com/.default'
/** Copy Blob within one account usually completes at once; otherwise its status is polled this often. */
const COPY_POLL_MS = 500

/** What the tool says, in one line, when there is no way to authenticate to an account. */
function noCredentials(account: string): string {
  return `az://${account}: no Azure credentials for storage account '${account}': set AZURE_STORAGE_CONNECTION_STRING, or sign in with 'az login' (or run with a managed or workload identity)`
}

/** Where an error happened, for messages that must name the account and the container. */
interface AzureScope {
  readonly account: string
  readonly container: string
}

interface RestErrorLike {
  name?: string
  message?: string
  code?: string
  statusCode?: number
  details?: {errorCode?: string}
}

/** The service's error code: in the body for most requests, in x-ms-error-code for HEAD. */
function errorCodeOf(error: unknown): string | undefined {
  const rest = (error ?? {}) as RestErrorLike
  return rest.details?.errorCode ?? (typeof rest.code === 'string' ? rest.code : undefined)
}

/** The service's message without its RequestId and Time lines. */
function firstLine(message: string | undefined): string {
  return (message ?? '').split('\n')[0]!.trim()
}

const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AggregateAuthenticationError', 'AuthenticationError', 'AuthenticationRequiredError'])
const ACCESS_DENIED = new Set(['AuthenticationFailed', 'AuthorizationFailure', 'AuthorizationPermissionMismatch', 'AuthorizationSourceIPMismatch', 'AuthorizationProtocolMismatch', 'InsufficientAccountPermissions', 'AccountIsDisabled', 'KeyBasedAuthenticationNotPermitted'])
const BAD_CONTENT = new Set(['Md5Mismatch', 'InvalidMd5', 'Crc64Mismatch', 'InvalidBlobOrBlock'])
const RETRYABLE = new Set(['ServerBusy', 'OperationTimedOut', 'InternalError'])

/** Translates whatever the Azure SDKs throw into the tool's typed errors; `what` says what was being done. */
export function mapAzureError(error: unknown, what: string, scope: AzureScope): Error {
  if (error instanceof ArtifactError) return error
  const rest = (error ?? {}) as RestErrorLike
  if (rest.name && CREDENTIAL_ERRORS.has(rest.name)) return new OperationalError(noCredentials(scope.account), {cause: error})
  const code = errorCodeOf(error)
  const status = rest.statusCode
  const detail = firstLine(rest.message) || code || (status === undefined ? 'failed' : `HTTP ${status}`)
  if (code === 'ContainerNotFound') {
    return new NotFoundError(
      `${what}: container '${scope.container}' does not exist in storage account '${scope.account}' (e2b-artifacts never creates containers: create it with your infrastructure code)`,
      {cause: error},
    )
  }
  if (code === 'ResourceNotFound' && status === 404) return new NotFoundError(`${what}: storage account '${scope.account}' or container '${scope.container}' not found`, {cause: error})
  if (code === 'BlobNotFound' || status === 404) return new NotFoundError(`${what}: not found`, {cause: error})
  if (code === 'BlobAlreadyExists' || code === 'ConditionNotMet' || status === 412) return new ConflictError(`${what}: the blob already exists`, {cause: error})
  if ((code && BAD_CONTENT.has(code)) || (status === 400 && /md5|crc64|checksum/i.test(detail))) {
    return new IntegrityError(`${what}: the service rejected the content (${detail}): nothing was stored`, {cause: error})
  }
  if ((code && ACCESS_DENIED.has(code)) || status === 401 || status === 403) {
    return new OperationalError(
      `${what}: access denied (${code ?? `HTTP ${status}`}): check AZURE_STORAGE_CONNECTION_STRING, or the signed-in identity's role on the account (Storage Blob Data Contributor to write, Reader to read)`,
      {cause: error},
    )
  }
  if ((code && RETRYABLE.has(code)) || status === 408 || status === 429 || (status !== undefined && status >= 500)) {
    return new TransientError(`${what}: ${detail}`, undefined, {cause: error})
  }
  if (status !== undefined) return new OperationalError(`${what}: ${detail} (HTTP ${status})`, {cause: error})
  if (/data corruption failure|received less data/i.test(rest.message ?? '')) return new TransientError(`${what}: the body ended early`, undefined, {cause: error})
  if (rest.code === 'ENOTFOUND') return new OperationalError(`${what}: no such host for storage account '${scope.account}': check the account name`, {cause: error})
  return classifyNetworkError(error, what)
}

/**
 * DefaultAzureCredential behind a deadline: its managed-identity probe and
 * the az CLI can each take long, and a run without any credentials must end
 * with one line, not hang. A failure is remembered, so that every request
 * after the first fails at once instead of waiting again.
 */
class BoundedCredential implements TokenCredential {
  private failure: OperationalError | undefined

  constructor(
    private readonly inner: TokenCredential,
    private readonly account: string,
    private readonly timeoutMs: number,
  ) {}

  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken | null> {
    if (this.failure) throw this.failure
    const deadline = AbortSignal.timeout(this.timeoutMs)
    const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal as AbortSignal, deadline]) : deadline
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no token within ${this.timeoutMs} ms`)), this.timeoutMs)
    })
    try {
      const token = await Promise.race([this.inner.getToken(scopes, {...options, abortSignal}), timedOut])
      if (!token) throw new Error('no credential in the chain gave a token')
      return token
    } catch (error) {
      if (options.abortSignal?.aborted) throw error
      this.failure = new OperationalError(noCredentials(this.account), {cause: error})
      throw this.failure
    } finally {
      clearTimeout(timer)
    }
  }
}

/** The signal of a request: the caller's, and a deadline, whichever fires first. */
function deadlineSignal(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const deadline = AbortSignal.timeout(timeoutMs)
  return signal ? AbortSignal.any([signal, deadline]) : deadline
}

/** A request that hit its own deadline (rather than the caller's abort) is worth retrying. */
function timedOut(error: unknown, signal: AbortSignal, caller: AbortSignal | undefined, what: string, timeoutMs: number): Error | undefined {
  if (!signal.aborted || caller?.aborted) return undefined
  return new TransientError(`${what}: no response within ${timeoutMs} ms`, undefined, {cause: error})
}

/**
 * Aborts a download whose body stops arriving. A paused stream is waiting
 * for its reader, not for the network, so that time does not count.
 */
function abortWhenStalled(body: Readable, timeoutMs: number, abort: () => void): void {
  const timer = setTimeout(function check() {
    if (body.isPaused()) timer.refresh()
    else abort()
  }, timeoutMs)
  body.on('data', () => timer.refresh())
  for (const event of ['end', 'close', 'error']) body.once(event, () => clearTimeout(timer))
}

/**
 * Reusable block buffers. A copy holds only a few blocks at a time; fresh
 * ones for every object would cost page faults, and garbage that only a full
 * collection returns, which was most of a streamed copy's memory.
 */
class BufferPool {
  private readonly idle: Buffer[] = []

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.idle.pop() ?? Buffer.allocUnsafe(this.size)
  }

  give(buffer: Buffer): void {
    if (buffer.length === this.size && this.idle.length < this.keep) this.idle.push(buffer)
  }
}

/** Enough for the streamed copies that run at once (copy-public-builds runs 4), each holding a body or its blocks in flight. */
const BLOCKS = new BufferPool(BLOCK_SIZE, 4 * Math.max(SINGLE_PUT_LIMIT / BLOCK_SIZE, BLOCKS_IN_FLIGHT + 1))

/**
 * A stream's bytes cut into blocks of `blockSize` (pooled buffers when the
 * size is the pool's), each handed to `deliver` as it fills, and the last,
 * shorter one at the end.
 */
abstract class BlockWriter extends Writable {
  private buffer: Buffer | undefined
  private filled = 0

  constructor(protected readonly blockSize: number) {
    super({highWaterMark: 1 << 16})
  }

  /** Takes a block; `buffer` is the whole pooled buffer behind it, to give back when done. */
  protected abstract deliver(block: Buffer, buffer: Buffer): Promise<void>

  /** After the last block. */
  protected async finish(): Promise<void> {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.fill(chunk).then(() => callback(), callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    const last = this.filled > 0 ? this.hand() : Promise.resolve()
    last.then(() => this.finish()).then(() => callback(), callback)
  }

  private async fill(chunk: Buffer): Promise<void> {
    let offset = 0
    while (offset < chunk.length) {
      this.buffer ??= this.blockSize === BLOCKS.size ? BLOCKS.take() : Buffer.allocUnsafe(this.blockSize)
      const copied = chunk.copy(this.buffer, this.filled, offset, Math.min(chunk.length, offset + this.blockSize - this.filled))
      this.filled += copied
      offset += copied
      if (this.filled === this.blockSize) await this.hand()
    }
  }

  private hand(): Promise<void> {
    const buffer = this.buffer!
    const block = buffer.subarray(0, this.filled)
    this.buffer = undefined
    this.filled = 0
    return this.deliver(block, buffer)
  }
}

/** Keeps a whole (small) body in pooled blocks, for one Put Blob once it has been checked. */
class BlockCollector extends BlockWriter {
  readonly parts: Buffer[] = []
  private readonly buffers: Buffer[] = []

  protected override async deliver(block: Buffer, buffer: Buffer): Promise<void> {
    this.parts.push(block)
    this.buffers.push(buffer)
  }

  /** The body as the SDK takes it: one buffer, or a stream of the parts. */
  body(): Buffer | (() => NodeJS.ReadableStream) {
    return this.parts.length === 1 ? this.parts[0]! : () => Readable.from(this.parts, {objectMode: false})
  }

  /** Gives the buffers back; only once no request can still be reading them. */
  release(): void {
    for (const buffer of this.buffers.splice(0)) BLOCKS.give(buffer)
  }
}

/**
 * The sink of a block upload: stages each block with its MD5, which the
 * service checks, keeping a few in flight. Nothing is visible until the
 * caller commits `ids`, which it does only when the whole stream ended well;
 * a failed stream leaves uncommitted blocks, which Azure discards by itself.
 */
class BlockStager extends BlockWriter {
  readonly ids: string[] = []
  private readonly prefix = randomBytes(12).toString('hex')
  private readonly inFlight = new Set<Promise<void>>()
  private failure: unknown
  private readonly abort = new AbortController()

  constructor(
    private readonly stage: (id: string, block: Buffer, md5: Buffer, signal: AbortSignal) => Promise<void>,
    blockSize: number,
  ) {
    super(blockSize)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.abort.abort(error ?? new Error('upload stopped'))
    callback(error)
  }

  /** Stages a block once a slot is free; its buffer goes back to the pool when the service has it. */
  protected override async deliver(block: Buffer, buffer: Buffer): Promise<void> {
    await this.settle(BLOCKS_IN_FLIGHT - 1)
    const id = Buffer.from(`${this.prefix}${String(this.ids.length).padStart(6, '0')}`).toString('base64')
    this.ids.push(id)
    const md5 = createHash('md5').update(block).digest()
    const staged: Promise<void> = this.stage(id, block, md5, this.abort.signal).then(
      () => {
        this.inFlight.delete(staged)
        BLOCKS.give(buffer)
      },
      (error: unknown) => {
        // The buffer may still be on its way out of a failed request: it is not reused.
        this.failure ??= error
        this.inFlight.delete(staged)
      },
    )
    this.inFlight.add(staged)
  }

  protected override finish(): Promise<void> {
    return this.settle(0)
  }

  /** Waits until at most `limit` blocks are in flight; a failed one fails the stream. */
  private async settle(limit: number): Promise<void> {
    while (this.inFlight.size > limit && this.failure === undefined) await Promise.race(this.inFlight)
    if (this.failure !== undefined) throw this.failure
  }
}

/** Properties of a blob as a stat or a listing reports them. */
interface BlobFacts {
  readonly contentLength?: number
  readonly contentMD5?: Uint8Array
  readonly metadata?: Record<string, string>
  readonly etag?: string
}

interface Connection {
  readonly container: ContainerClient
  /** The account's blob endpoint: two stores with the same one can copy server side. */
  readonly serviceUrl: string
}

/**
 * `az://ACCOUNT/CONTAINER[/prefix]` through `@azure/storage-blob`, with
 * AZURE_STORAGE_CONNECTION_STRING when it is set (Azurite, account keys, SAS),
 * else DefaultAzureCredential against https://ACCOUNT.blob.core.windows.net.
 *
 * Every write carries `sha256` metadata. Its Content-MD5 is checked by the
 * service: a single Put Blob declares it (the source service's MD5 for a
 * streamed copy, else one hashed here) and the service computes the blob's
 * own; a block upload declares each block's MD5, and the blob's Content-MD5 is
 * the MD5 of the whole as hashed here in flight (Azure does not compute one
 * for block lists). The tool never creates containers.
 */
export class AzureStore implements Store {
  readonly provider = 'azure'
  readonly display: string
  private readonly root: string
  private readonly scope: AzureScope
  private connection: Promise<Connection> | undefined

  constructor(
    private readonly location: BucketLocation,
    root: string,
  ) {
    this.root = joinKey(location.prefix, root)
    this.scope = {account: location.account ?? '', container: location.bucket}
    this.display = `az://${joinKey(`${this.scope.account}/${location.bucket}`, this.root)}`
  }

  private connect(): Promise<Connection> {
    this.connection ??= (async () => {
      const sdk = await import('@azure/storage-blob')
      // Callers retry TransientErrors with the tool's one policy (src/net/retry.ts); SDK retries would multiply it.
      const options: StoragePipelineOptions = {retryOptions: {maxTries: 1}}
      const setting = azureConnectionString()
      let service: BlobServiceClient
      if (setting) {
        try {
          service = sdk.BlobServiceClient.fromConnectionString(setting.value, options)
        } catch (error) {
          // The SDK's own message may quote the value, which is a secret.
          throw new UsageError(`${setting.name} is not a valid Azure Storage connection string: expect AccountName=…;AccountKey=…, or BlobEndpoint=…;SharedAccessSignature=…`, {cause: error})
        }
        this.checkConnectionString(setting.name, service)
      } else {
        const identity = await import('@azure/identity')
        let credential: TokenCredential
        try {
          credential = new identity.DefaultAzureCredential()
        } catch (error) {
          throw new UsageError(`az://${this.scope.account}: DefaultAzureCredential cannot start: ${firstLine((error as Error).message)}`, {cause: error})
        }
        const bounded = new BoundedCredential(credential, this.scope.account, azureCredentialTimeoutMs())
        // Get the first token here, under the credential's own deadline: inside a request it would race that
        // request's shorter timeout, and each retry would start the whole credential chain again.
        await bounded.getToken(STORAGE_SCOPE)
        service = new sdk.BlobServiceClient(`https://${this.scope.account}.blob.core.windows.net`, bounded, options)
      }
      return {container: service.getContainerClient(this.location.bucket), serviceUrl: service.url.replace(/[?#].*$/, '').replace(/\/+$/, '')}
    })()
    return this.connection
  }

  /** A connection string names its own account and endpoint; both must fit the location and the transport rule. */
  private checkConnectionString(name: string, service: BlobServiceClient): void {
    const endpoint = new URL(service.url)
    if (!isAllowedTransport(endpoint)) throw new UsageError(`${name}: plain http is allowed only for loopback hosts (Azurite), not '${endpoint.hostname}'`)
    if (service.accountName && service.accountName !== this.scope.account) {
      throw new UsageError(
        `${this.display}: ${name} is for storage account '${service.accountName}', not '${this.scope.account}': name that account in the location, or unset ${name} to use DefaultAzureCredential`,
      )
    }
  }

  private blobName(key: string): string {
    assertSafeKey(key, this.display)
    return joinKey(this.root, key)
  }

  private where(key: string): string {
    return `${this.display}/${key}`
  }

  private async blob(key: string): Promise<BlockBlobClient> {
    return (await this.connect()).container.getBlockBlobClient(this.blobName(key))
  }

  private mapError(error: unknown, what: string): Error {
    return mapAzureError(error, what, this.scope)
  }

  /** A request with the tool's timeout: the deadline makes it a TransientError, the caller's abort does not. */
  private async request<T>(what: string, caller: AbortSignal | undefined, timeoutMs: number, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = deadlineSignal(timeoutMs, caller)
    try {
      return await send(signal)
    } catch (error) {
      throw timedOut(error, signal, caller, what, timeoutMs) ?? this.mapError(error, what)
    }
  }

  private infoFrom(key: string, facts: BlobFacts): ObjectInfo {
    // `sha256` is metadata a client wrote; `md5` is the blob's Content-MD5, which the service computed
    // (Put Blob) or which was declared at commit after the service had checked every block's MD5.
    const metadataSha256 = sha256FromMetadata(facts.metadata?.sha256)
    const md5 = facts.contentMD5 && facts.contentMD5.length === 16 ? Buffer.from(facts.contentMD5).toString('base64') : undefined
    return {
      key,
      size: facts.contentLength ?? 0,
      ...(metadataSha256 ? {metadataSha256} : {}),
      ...(md5 ? {md5} : {}),
      ...(facts.etag ? {version: facts.etag} : {}),
    }
  }

  /** The blob's properties, or undefined when it does not exist. A missing container is an error, not an absent blob. */
  private async propertiesOf(key: string, signal?: AbortSignal): Promise<BlobFacts | undefined> {
    const blob = await this.blob(key)
    try {
      return await this.request(`reading metadata of ${this.where(key)}`, signal, requestTimeoutMs(), (abortSignal) => blob.getProperties({abortSignal}))
    } catch (error) {
      if (error instanceof NotFoundError && errorCodeOf(error.cause) !== 'ContainerNotFound') return undefined
      throw error
    }
  }

  /** A single idempotent request, so it retries itself: callers stat freely. */
  async stat(key: string, options: ReadOptions = {}): Promise<ObjectInfo | undefined> {
    const facts = await withRetry('metadata read', () => this.propertiesOf(key, options.signal))
    return facts && this.infoFrom(key, facts)
  }

  /**
   * One Get Blob (ranged for `firstBytes`), so that size and content come from
   * the same response. A body that ends early is an error (the SDK compares it
   * with Content-Length); one that stalls is aborted after the request timeout.
   */
  async read(key: string, options: ReadOptions = {}): Promise<ObjectBody> {
    const where = this.where(key)
    const blob = await this.blob(key)
    const timeoutMs = requestTimeoutMs()
    const abort = new AbortController()
    const stopOnCallerAbort = (): void => abort.abort(options.signal?.reason)
    options.signal?.addEventListener('abort', stopOnCallerAbort, {once: true})
    const headers = setTimeout(() => abort.abort(new Error('timeout')), timeoutMs)
    let response
    try {
      response = await blob.download(0, options.firstBytes, {abortSignal: abort.signal, maxRetryRequests: 0})
    } catch (error) {
      options.signal?.removeEventListener('abort', stopOnCallerAbort)
      // A ranged read of an empty blob: there are no bytes to give.
      if (options.firstBytes && errorCodeOf(error) === 'InvalidRange') return {body: Readable.from([]), size: 0}
      throw timedOut(error, abort.signal, options.signal, `downloading ${where}`, timeoutMs) ?? this.downloadError(error, where)
    } finally {
      clearTimeout(headers)
    }
    const stream = response.readableStreamBody as Readable | undefined
    if (!stream) throw new TransientError(`downloading ${where}: the response has no body`)
    let stalled = false
    abortWhenStalled(stream, timeoutMs, () => {
      stalled = true
      abort.abort(new Error('stalled'))
    })
    stream.once('close', () => options.signal?.removeEventListener('abort', stopOnCallerAbort))
    const body = relayErrors(
      stream,
      (error) => (stalled ? new TransientError(`downloading ${where}: no data for ${timeoutMs} ms`, undefined, {cause: error}) : this.downloadError(error, where)),
      options.signal,
    )
    return {body, size: response.contentLength}
  }

  private downloadError(error: unknown, where: string): Error {
    const mapped = this.mapError(error, `downloading ${where}`)
    if (mapped instanceof NotFoundError && errorCodeOf(error) !== 'ContainerNotFound') return new NotFoundError(`${where}: not found`, {cause: error})
    return mapped
  }

  /**
   * A stream with the source service's MD5 goes up as it arrives, in one Put
   * Blob (putStream). Otherwise small bodies go up in one Put Blob, larger
   * ones in blocks. A stream goes through the one hashing stream, which fails
   * it before it ends when the content is not what was declared: the service
   * never receives a whole body (streamed Put Blob), nothing is sent (held Put
   * Blob) or nothing is committed (blocks) until the whole body has passed.
   */
  async write(key: string, body: Buffer | Readable, options: WriteOptions): Promise<ObjectInfo> {
    const where = this.where(key)
    if (Buffer.isBuffer(body) && body.length <= SINGLE_PUT_LIMIT) {
      const mismatch = describeMismatch(body, options)
      if (mismatch) throw new IntegrityError(`content for ${where} does not match what was declared (${mismatch}): not written`)
      return this.putBlob(key, body, md5Base64(body), options)
    }
    const stream = Buffer.isBuffer(body) ? Readable.from([body], {objectMode: false}) : body
    // Not for an empty body: with nothing to hold back, the service could store it before the check has run.
    if (options.md5 !== undefined && options.size > 0 && options.size <= STREAMED_PUT_LIMIT) return this.putStream(key, stream, options.md5, options)
    const check = new HashingStream({expect: declaredContent(options, where), md5: true})
    if (options.size > SINGLE_PUT_LIMIT) return this.writeBlocks(key, stream, check, options)
    const collector = new BlockCollector(BLOCK_SIZE)
    try {
      await this.pipe(stream, check, collector, options.signal)
    } catch (error) {
      collector.release()
      throw this.writeError(error, where)
    }
    const written = await this.putBlob(key, collector.body(), check.md5Base64()!, options)
    // Only now, with the request finished, can no socket still be reading the buffers.
    collector.release()
    return written
  }

  /**
   * One Put Blob fed straight from a checking stream: the body itself when it
   * already checks the declared digest (a streamed copy's), else one made
   * here. The check holds back the last chunk until it has passed, so a body
   * it fails ends the request before the declared length even when the MD5
   * describes the bytes sent: the service stores nothing and an existing blob
   * stays as it was; the check's verdict is the error.
   */
  private async putStream(key: string, body: Readable, md5: string, options: WriteOptions): Promise<ObjectInfo> {
    const checked = body instanceof HashingStream && body.verifies(options.sha256, options.size)
    const check = checked ? body : new HashingStream({expect: declaredContent(options, this.where(key))})
    let checkFailure: unknown
    // The SDK does not end a request whose body fails: it would wait for the service, which waits for the rest.
    const stop = new AbortController()
    const failed = (error: Error | null): void => {
      if (!error) return
      checkFailure ??= error
      stop.abort(error)
    }
    check.once('error', failed)
    const stream = checked ? Promise.resolve() : pipeline(body, check).then(() => undefined, failed)
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal
    try {
      return await this.putBlob(key, check, md5, {...options, signal})
    } catch (error) {
      body.destroy()
      check.destroy()
      await stream
      throw checkFailure === undefined ? error : this.writeError(checkFailure, this.where(key))
    }
  }

  private pipe(body: Readable, check: HashingStream, sink: Writable, signal?: AbortSignal): Promise<void> {
    return signal ? pipeline(body, check, sink, {signal}) : pipeline(body, check, sink)
  }

  /**
   * One Put Blob with Content-MD5: the service refuses bytes that differ from
   * it and answers with the MD5 of what it stored, which must be the same.
   */
  private async putBlob(key: string, content: Buffer | NodeJS.ReadableStream | (() => NodeJS.ReadableStream), md5: string, options: WriteOptions): Promise<ObjectInfo> {
    const where = this.where(key)
    const blob = await this.blob(key)
    // The SDK sends transactionalContentMD5 as Content-MD5 on Put Blob too; its type only lists it for Put Block.
    const upload: BlockBlobUploadOptions & {transactionalContentMD5: Uint8Array} = {
      blobHTTPHeaders: {blobContentType: options.contentType ?? 'application/octet-stream'},
      ...this.conditions(options),
      metadata: {sha256: options.sha256},
      transactionalContentMD5: Buffer.from(md5, 'base64'),
    }
    let response
    try {
      response = await this.request(`writing ${where}`, options.signal, this.uploadTimeoutMs(options.size), (abortSignal) => blob.upload(content, options.size, {...upload, abortSignal}))
    } catch (error) {
      throw this.writeError(error, where)
    }
    const stored = response.contentMD5 ? Buffer.from(response.contentMD5).toString('base64') : undefined
    if (stored !== undefined && stored !== md5) {
      await this.removeVersion(key, response.etag)
      throw new IntegrityError(`${where}: the service stored content with MD5 ${stored}, not the ${md5} that was sent; it was removed`)
    }
    return {key, md5, sha256: options.sha256, size: options.size, ...(response.etag ? {version: response.etag} : {})}
  }

  /**
   * Larger bodies: staged in blocks through the in-flight check, committed
   * only when the whole stream has passed it, so wrong content never becomes
   * a blob. The commit is conditional, and what it made is read back.
   */
  private async writeBlocks(key: string, body: Readable, check: HashingStream, options: WriteOptions): Promise<ObjectInfo> {
    const where = this.where(key)
    // Saves staging a whole body only to have the commit refused.
    if (options.precondition === 'absent' && (await this.propertiesOf(key, options.signal))) throw new ConflictError(`${where} already exists`)
    const blob = await this.blob(key)
    const blockSize = Math.max(BLOCK_SIZE, Math.ceil(options.size / MAX_BLOCKS))
    const stager = new BlockStager(async (id, block, md5, signal) => {
      const caller = options.signal ? AbortSignal.any([options.signal, signal]) : signal
      await this.request(`writing ${where}`, caller, this.uploadTimeoutMs(block.length), (abortSignal) => blob.stageBlock(id, block, block.length, {abortSignal, transactionalContentMD5: md5}))
    }, blockSize)
    try {
      await this.pipe(body, check, stager, options.signal)
    } catch (error) {
      throw this.writeError(error, where)
    }
    const md5 = check.md5Base64()!
    let committed
    try {
      committed = await this.request(`writing ${where}`, options.signal, requestTimeoutMs(), (abortSignal) =>
        blob.commitBlockList(stager.ids, {
          abortSignal,
          blobHTTPHeaders: {blobContentMD5: Buffer.from(md5, 'base64'), blobContentType: options.contentType ?? 'application/octet-stream'},
          ...this.conditions(options),
          metadata: {sha256: options.sha256},
        }),
      )
    } catch (error) {
      throw this.writeError(error, where)
    }
    const facts = await this.propertiesOf(key, options.signal)
    if (!facts) throw new TransientError(`${where}: the blob just written is not visible yet`)
    const info = this.infoFrom(key, facts)
    if (info.size !== options.size || info.md5 !== md5 || info.metadataSha256 !== options.sha256) {
      if (facts.etag === committed.etag) await this.removeVersion(key, facts.etag)
      throw new IntegrityError(`${where}: the stored blob (${info.size} bytes, md5 ${info.md5 ?? '?'}) is not what was sent (${options.size} bytes, md5 ${md5}); it was removed`)
    }
    // Every block's MD5 was checked by the service, and the whole stream's sha256 here before the commit.
    return {...info, sha256: options.sha256}
  }

  private conditions(options: WriteOptions): {conditions?: {ifNoneMatch: string}} {
    // If-None-Match: * also makes a retried upload safe: a lost response shows up as a conflict with our own content.
    return options.precondition === 'absent' ? {conditions: {ifNoneMatch: '*'}} : {}
  }

  private uploadTimeoutMs(bytes: number): number {
    return requestTimeoutMs() + Math.ceil(bytes * UPLOAD_MS_PER_BYTE * 1000)
  }

  private writeError(error: unknown, where: string): Error {
    const mapped = this.mapError(error, `writing ${where}`)
    return mapped instanceof ConflictError ? new ConflictError(`${where} already exists`, {cause: error}) : mapped
  }

  /** Removes exactly the blob this store just made (and nothing written since). */
  private async removeVersion(key: string, etag: string | undefined): Promise<void> {
    const blob = await this.blob(key)
    await blob.deleteIfExists({...(etag ? {conditions: {ifMatch: etag}} : {}), deleteSnapshots: 'include'}).catch(() => undefined)
  }

  async *list(prefix: string, options: ReadOptions = {}): AsyncIterable<ObjectInfo> {
    const {container} = await this.connect()
    const base = this.root === '' ? '' : `${this.root}/`
    const what = `listing ${joinKey(this.display, prefix)}`
    // A plain string prefix, as Azure and FileStore treat it: 'v1.0' also matches 'v1.01/…'.
    const listPrefix = `${base}${prefix}`
    let continuationToken: string | undefined
    do {
      const page = await this.request(what, options.signal, requestTimeoutMs(), async (abortSignal) => {
        const step = await container.listBlobsFlat({abortSignal, includeMetadata: true, prefix: listPrefix}).byPage({continuationToken, maxPageSize: 5000}).next()
        return step.done ? undefined : step.value
      })
      for (const item of page?.segment.blobItems ?? []) {
        if (isFolderMarker(item)) continue
        yield this.infoFrom(item.name.slice(base.length), {...item.properties, metadata: item.metadata})
      }
      continuationToken = page?.continuationToken || undefined
    } while (continuationToken)
  }

  async remove(key: string): Promise<void> {
    const blob = await this.blob(key)
    // Absent blobs are not an error; a missing container still is.
    await this.request(`removing ${this.where(key)}`, undefined, requestTimeoutMs(), (abortSignal) => blob.deleteIfExists({abortSignal, deleteSnapshots: 'include'}))
  }

  /**
   * A server-side Copy Blob within one account, of exactly the source
   * version that was checked (If-Match on its ETag), with fresh `sha256`
   * metadata; the service carries the source's Content-MD5 over, and the copy
   * is read back and compared with the source. Between accounts (or when
   * the service cannot authorise the source) it declines, and the caller streams.
   */
  async copyWithin(source: Store, sourceKey: string, key: string, options: WriteOptions): Promise<ObjectInfo | undefined> {
    if (!(source instanceof AzureStore)) return undefined
    const [from, to] = await Promise.all([source.connect(), this.connect()])
    if (from.serviceUrl !== to.serviceUrl) return undefined
    const where = this.where(key)
    const origin = source.where(sourceKey)
    const sourceFacts = await source.propertiesOf(sourceKey, options.signal)
    if (!sourceFacts) throw new NotFoundError(`${origin}: not found`)
    const sourceInfo = source.infoFrom(sourceKey, sourceFacts)
    if (sourceInfo.size !== options.size || (sourceInfo.metadataSha256 !== undefined && sourceInfo.metadataSha256 !== options.sha256)) {
      throw new IntegrityError(`${origin} (${sourceInfo.size} bytes, sha256 ${sourceInfo.metadataSha256 ?? 'unknown'}) is not the expected ${options.size} bytes with sha256 ${options.sha256}: not copied`)
    }
    const sourceBlob = await source.blob(sourceKey)
    const destination = await this.blob(key)
    try {
      const poller = await destination.beginCopyFromURL(sourceBlob.url, {
        abortSignal: options.signal,
        ...this.conditions(options),
        intervalInMs: COPY_POLL_MS,
        metadata: {sha256: options.sha256},
        ...(sourceFacts.etag ? {sourceConditions: {ifMatch: sourceFacts.etag}} : {}),
      })
      const result = await poller.pollUntilDone()
      if (result.copyStatus !== 'success') throw new TransientError(`copying ${origin} to ${where}: the copy ended ${result.copyStatus ?? 'unfinished'}`)
    } catch (error) {
      const code = errorCodeOf(error)
      if (code === 'CannotVerifyCopySource') return undefined
      // The source's ETag no longer matches: it changed since it was checked, so look again. (An existing
      // destination is BlobAlreadyExists; Azurite reports a failed source condition as ConditionNotMet.)
      if (code === 'SourceConditionNotMet' || code === 'ConditionNotMet') {
        throw new TransientError(`copying ${origin} to ${where}: the source changed during the copy`, undefined, {cause: error})
      }
      throw this.writeError(error, `${where} (copy from ${origin})`)
    }
    const copied = await this.propertiesOf(key, options.signal)
    if (!copied) throw new TransientError(`${where}: the copy from ${origin} is not visible yet`)
    const info = this.infoFrom(key, copied)
    if (info.size !== sourceInfo.size || info.metadataSha256 !== options.sha256 || (sourceInfo.md5 !== undefined && info.md5 !== sourceInfo.md5)) {
      await this.removeVersion(key, copied.etag)
      throw new IntegrityError(`${where}: the copy from ${origin} (${info.size} bytes, md5 ${info.md5 ?? '?'}) is not the source (${sourceInfo.size} bytes, md5 ${sourceInfo.md5 ?? '?'}); it was removed`)
    }
    return info
  }

  async close(): Promise<void> {
    // The SDK keeps no process-wide handles beyond idle keep-alive sockets, which do not hold the process open.
    this.connection = undefined
  }
}

/** Zero-byte placeholders for "directories" (consoles, hierarchical-namespace accounts) are not objects of ours. */
function isFolderMarker(item: BlobItem): boolean {
  return item.name.endsWith('/') || item.metadata?.hdi_isfolder === 'true'
}
