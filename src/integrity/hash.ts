import {createHash, type Hash} from 'node:crypto'
import {closeSync, createReadStream, openSync, readSync} from 'node:fs'
import {Transform, type TransformCallback} from 'node:stream'

import {IntegrityError, TransientError} from '../core/errors.js'
import {Crc32c} from './crc32c.js'

/** Content a stream must turn out to be, checked before the stream ends. */
export interface ExpectedContent {
  readonly sha256: string
  readonly size: number
  /** Names the content in errors. */
  readonly where: string
  /** Who claimed the digest, for the mismatch message: "its metadata", "the declared digest". */
  readonly claimedBy: string
  /** What happens to bad content, ending the error: "not copied", "not written". */
  readonly consequence: string
}

/** What a store's write checks its body against: the digest and size the caller declared. */
export function declaredContent(declared: {readonly sha256: string; readonly size: number}, where: string): ExpectedContent {
  return {claimedBy: 'the declared digest', consequence: 'not written', sha256: declared.sha256, size: declared.size, where: `content for ${where}`}
}

export interface HashingOptions {
  /** Keep this many first bytes (where ELF headers live). */
  readonly headBytes?: number
  /** Also compute the MD5, for services that check one. */
  readonly md5?: boolean
  /** Also compute the CRC32C, to check a service's own checksum. */
  readonly crc32c?: boolean
  /**
   * The MD5 and CRC32C are computed only while this says they are still
   * wanted; once it says no, they are dropped for good (they cost as much as
   * the sha256, and a download that turns out to have a sidecar needs neither).
   */
  readonly extrasWanted?: () => boolean
  /**
   * Fail the stream, before it ends, when the content is not this. A store's
   * upload then sees an error instead of an end of stream and aborts rather
   * than publishing unverified bytes. The last chunk is held back until the
   * check has passed, so a consumer that declared the length (a streamed Put
   * Blob, whose service stores whatever reaches that length) never has every
   * byte of content that fails it.
   */
  readonly expect?: ExpectedContent
  /** Sees every chunk as it passes (a BinaryScanner), so the content is never read twice. */
  readonly onChunk?: (chunk: Buffer) => void
}

/**
 * The one pass-through that hashes and counts every byte on the way, so that
 * content is verified in the same pass that moves it, never by reading it twice.
 */
export class HashingStream extends Transform {
  private readonly sha256: Hash = createHash('sha256')
  private md5?: Hash
  private crc?: Crc32c
  private readonly headChunks: Buffer[] = []
  private headLength = 0
  private sha256Hex?: string
  private md5Value?: string
  /** With `expect`: the latest chunk, passed on only once the next one arrives or the check has passed. */
  private held?: Buffer
  bytes = 0

  constructor(private readonly options: HashingOptions = {}) {
    super({highWaterMark: 1 << 16})
    if (options.md5) this.md5 = createHash('md5')
    if (options.crc32c) this.crc = new Crc32c()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    const {expect} = this.options
    if (expect && this.bytes > expect.size) {
      callback(new IntegrityError(`${expect.where} is longer than the expected ${expect.size} bytes: ${expect.consequence}`))
      return
    }
    this.sha256.update(chunk)
    if ((this.md5 || this.crc) && this.options.extrasWanted?.() === false) {
      this.md5 = undefined
      this.crc = undefined
    }
    this.md5?.update(chunk)
    this.crc?.update(chunk)
    this.keepHead(chunk)
    this.options.onChunk?.(chunk)
    if (!expect) {
      callback(null, chunk)
      return
    }
    const previous = this.held
    this.held = chunk
    callback(null, previous)
  }

  override _flush(callback: TransformCallback): void {
    const {expect} = this.options
    if (!expect) {
      callback()
      return
    }
    if (this.bytes < expect.size) {
      // A short body is a broken transfer, worth a retry, not bad content.
      callback(new TransientError(`${expect.where}: body ended after ${this.bytes} of ${expect.size} bytes`))
      return
    }
    const sha256 = this.digest()
    if (sha256 !== expect.sha256) {
      callback(new IntegrityError(`${expect.where} has sha256 ${sha256}, but ${expect.claimedBy} says ${expect.sha256}: ${expect.consequence}`))
      return
    }
    callback(null, this.held)
    this.held = undefined
  }

  private keepHead(chunk: Buffer): void {
    const wanted = (this.options.headBytes ?? 0) - this.headLength
    if (wanted <= 0) return
    const slice = chunk.subarray(0, wanted)
    this.headChunks.push(Buffer.from(slice))
    this.headLength += slice.length
  }

  /**
   * Whether this stream already fails, before its end, on content other than
   * `sha256` of `size` bytes: a store given it as a body need not hash it again.
   */
  verifies(sha256: string, size: number): boolean {
    const {expect} = this.options
    return expect !== undefined && expect.sha256 === sha256 && expect.size === size
  }

  /** Lowercase hex sha256; call once the stream has finished. */
  digest(): string {
    this.sha256Hex ??= this.sha256.digest('hex')
    return this.sha256Hex
  }

  /** Base64 MD5 (as GCS and Azure report it), when asked for; call once the stream has finished. */
  /** Undefined when not asked for, or dropped (see `extrasWanted`). */
  md5Base64(): string | undefined {
    if (this.md5) this.md5Value ??= this.md5.digest('base64')
    return this.md5Value
  }

  /** Base64 big-endian CRC32C (as GCS and S3 report it), when asked for; call once the stream has finished. */
  crc32cBase64(): string | undefined {
    return this.crc?.base64()
  }

  /** The first bytes seen (up to `headBytes`). */
  head(): Buffer {
    return Buffer.concat(this.headChunks)
  }
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

export function md5Base64(data: Buffer): string {
  return createHash('md5').update(data).digest('base64')
}

/** Hashes a local file in one streaming pass. */
export async function sha256File(filePath: string): Promise<{sha256: string; size: number}> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(filePath, {highWaterMark: 1 << 20}) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    size += chunk.length
  }
  return {sha256: hash.digest('hex'), size}
}

/**
 * Content held in memory against what was declared, before a single byte is
 * sent, so that a mismatch never reaches a bucket. Undefined when it matches.
 */
export function describeMismatch(data: Buffer, expected: {readonly sha256: string; readonly size: number}): string | undefined {
  if (data.length !== expected.size) return `${data.length} bytes, expected ${expected.size}`
  const actual = sha256Hex(data)
  return actual === expected.sha256 ? undefined : `sha256 ${actual}, expected ${expected.sha256}`
}

/**
 * Hashes a local file synchronously, reading 1 MiB at a time into one buffer,
 * so memory stays bounded however large the file. For the up-to-date check
 * that runs on every `make`: no streams, promises or event-loop turns.
 * `onChunk` sees every chunk too (the buffer is reused: copy what you keep),
 * so a caller can learn more from the same single read.
 */
export function sha256FileSync(filePath: string, onChunk?: (chunk: Buffer) => void): {sha256: string; size: number} {
  const fd = openSync(filePath, 'r')
  try {
    const hash = createHash('sha256')
    const buffer = Buffer.allocUnsafe(1 << 20)
    let size = 0
    for (let read = readSync(fd, buffer, 0, buffer.length, null); read > 0; read = readSync(fd, buffer, 0, buffer.length, null)) {
      const chunk = buffer.subarray(0, read)
      hash.update(chunk)
      onChunk?.(chunk)
      size += read
    }
    return {sha256: hash.digest('hex'), size}
  } finally {
    closeSync(fd)
  }
}
