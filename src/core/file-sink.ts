import {close, fsync, open, writeSync} from 'node:fs'
import {Writable} from 'node:stream'

/**
 * A new file as a stream's sink: created with `wx` (never an existing file),
 * written synchronously chunk by chunk, synced and closed when the stream
 * ends, so that a file the stream finished is durable before anyone renames
 * it. Not fs.WriteStream: each of its writes is a round trip through the
 * thread pool, and loading it (with node:fs/promises) costs a cold `fetch`
 * about 2 ms; a write of one chunk into the page cache takes microseconds.
 */
export class FileSink extends Writable {
  private fd: number | undefined

  constructor(
    readonly path: string,
    private readonly mode: number,
  ) {
    super({highWaterMark: 1 << 20})
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, 'wx', this.mode, (error, fd) => {
      this.fd = fd
      callback(error)
    })
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      for (let written = 0; written < chunk.length; ) written += writeSync(this.fd!, chunk, written, chunk.length - written)
    } catch (error) {
      callback(error as Error)
      return
    }
    callback()
  }

  override _final(callback: (error?: Error | null) => void): void {
    fsync(this.fd!, (error) => {
      if (error) {
        callback(error)
        return
      }
      this.closeFile(callback)
    })
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeFile((closeError) => callback(error ?? closeError))
  }

  private closeFile(callback: (error?: Error | null) => void): void {
    const {fd} = this
    this.fd = undefined
    if (fd === undefined) callback()
    else close(fd, callback)
  }
}
