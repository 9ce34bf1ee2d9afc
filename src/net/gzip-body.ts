import {createHash} from 'node:crypto'
import {PassThrough, type Readable, Transform, type TransformCallback, addAbortSignal} from 'node:stream'

import {IntegrityError, TransientError} from '../core/errors.js'

/**
 * Objects stored gzip-compressed with `Content-Encoding: gzip` (what
 * `gsutil cp -Z` uploads) are asked for as stored (`Accept-Encoding: gzip`)
 * and decoded here, so that every check downstream (sidecar, pin, ELF, size
 * of what is written) applies to the decoded bytes, while the service's own
 * checksums, which describe the stored compressed bytes, are checked against
 * the bytes that arrived. An error caused by the encoding says so.
 */

export const GZIP_NOTE = 'stored gzip-encoded (Content-Encoding: gzip, as `gsutil cp -Z` uploads)'

export interface GzipBodyOptions {
  /** What is being read, for messages: `gs://bucket/key`. */
  readonly where: string
  /** The stored (compressed) length the server announced. */
  readonly storedBytes?: number
  /** The service's base64 MD5 of the stored bytes (x-goog-hash, md5Hash). */
  readonly storedMd5?: string
  /**
   * A ranged read of the first bytes only: the body may stop mid-stream, so a
   * missing gzip trailer is not an error.
   */
  readonly partial?: boolean
  readonly signal?: AbortSignal
}

/** Counts and hashes the compressed bytes, and checks them when they end. */
class StoredBytesCheck extends Transform {
  private readonly md5 = createHash('md5')
  bytes = 0

  constructor(private readonly options: GzipBodyOptions) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    if (this.options.storedMd5) this.md5.update(chunk)
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    const {partial, storedBytes, storedMd5, where} = this.options
    if (partial) return callback()
    if (storedBytes !== undefined && this.bytes !== storedBytes) {
      return callback(new TransientError(`${where}: the gzip-encoded body ended after ${this.bytes} of ${storedBytes} bytes (truncated)`))
    }
    const md5 = storedMd5 ? this.md5.digest('base64') : undefined
    if (md5 !== undefined && md5 !== storedMd5) {
      return callback(new TransientError(`${where}: the gzip-encoded bytes received have md5 ${md5}, but the service says ${storedMd5}`))
    }
    callback()
  }
}

/**
 * The decoded content of a gzip-encoded body. Errors are the tool's typed
 * errors: a short or damaged transfer is transient (retried); bytes that
 * arrived exactly as stored (length and the service's md5) and still do not
 * decode are an integrity error that names the encoding. Destroying the
 * returned stream tears down `body`.
 */
export async function decodeGzipBody(body: Readable, options: GzipBodyOptions): Promise<Readable> {
  // Loaded here, not by the fast path that bundles this module: most objects are not gzip-encoded.
  const {constants, createGunzip} = await import('node:zlib')
  const check = new StoredBytesCheck(options)
  const gunzip = createGunzip(options.partial ? {finishFlush: constants.Z_SYNC_FLUSH} : {})
  const out = new PassThrough({highWaterMark: 1 << 20})
  const fail = (error: unknown): void => {
    if (!out.destroyed) out.destroy(error instanceof Error ? error : new Error(String(error)))
  }
  body.on('error', fail)
  check.on('error', fail)
  gunzip.on('error', (error) => {
    // Was it the transfer or the object? Read the rest through the length
    // and md5 check: if that fails, the check's error (transient) wins.
    check.unpipe(gunzip)
    const settle = (): void => fail(undecodable(error, options))
    if (check.readableEnded) return settle()
    check.once('end', settle)
    check.resume()
  })
  out.on('close', () => {
    for (const stream of [body, check, gunzip]) if (!stream.destroyed) stream.destroy()
  })
  body.pipe(check).pipe(gunzip).pipe(out)
  return options.signal ? addAbortSignal(options.signal, out) : out
}

function undecodable(error: Error, options: GzipBodyOptions): Error {
  const verified = options.storedMd5 ? 'arrived intact (its md5 matches) but ' : ''
  return new IntegrityError(`${options.where} is ${GZIP_NOTE}, and ${verified}does not decode as gzip (${error.message}): re-upload it, or upload it without -Z`, {cause: error})
}
