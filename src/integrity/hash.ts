import {createHash, type Hash} from 'node:crypto'
import {closeSync, createReadStream, openSync, readSync} from 'node:fs'
import {Transform, type TransformCallback} from 'node:stream'

/**
 * A pass-through that hashes and counts every byte on the way, so that content
 * is verified in the same pass that moves it, never by reading it twice.
 * It also keeps the first bytes, which is where ELF headers live.
 */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256')
  private readonly headChunks: Buffer[] = []
  private headLength = 0
  bytes = 0

  constructor(private readonly headBytes = 64) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk)
    this.bytes += chunk.length
    if (this.headLength < this.headBytes) {
      const needed = this.headBytes - this.headLength
      const slice = chunk.subarray(0, needed)
      this.headChunks.push(Buffer.from(slice))
      this.headLength += slice.length
    }
    callback(null, chunk)
  }

  /** Lowercase hex digest; call once the stream has finished. */
  digest(): string {
    return this.hash.digest('hex')
  }

  /** The first bytes seen (up to `headBytes`). */
  head(): Buffer {
    return Buffer.concat(this.headChunks)
  }
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
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
 * Hashes a local file synchronously, reading 1 MiB at a time into one buffer,
 * so memory stays bounded however large the file. For the up-to-date check
 * that runs on every `make`: no streams, promises or event-loop turns.
 */
export function sha256FileSync(filePath: string): {sha256: string; size: number} {
  const fd = openSync(filePath, 'r')
  try {
    const hash = createHash('sha256')
    const buffer = Buffer.allocUnsafe(1 << 20)
    let size = 0
    for (let read = readSync(fd, buffer, 0, buffer.length, null); read > 0; read = readSync(fd, buffer, 0, buffer.length, null)) {
      hash.update(buffer.subarray(0, read))
      size += read
    }
    return {sha256: hash.digest('hex'), size}
  } finally {
    closeSync(fd)
  }
}
