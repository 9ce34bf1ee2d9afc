import {close, fsync, open, writev} from 'node:fs'
import {Writable} from 'node:stream'

/**
 * A new file as a stream's sink: created with `wx` (never an existing file),
 * written with writev (the chunks that queued up while the last write was in
 * the thread pool, in one call), synced and closed when the stream ends, so
 * that a file the stream finished is durable before anyone renames it. Not
 * fs.WriteStream: loading it (with node:fs/promises, which it requires) costs
 * every cold `fetch` about 2 ms.
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
    this.writeAll([chunk], callback)
  }

  override _writev(chunks: Array<{chunk: Buffer}>, callback: (error?: Error | null) => void): void {
    this.writeAll(
      chunks.map(({chunk}) => chunk),
      callback,
    )
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

  /** Writes every byte of `buffers`, again from where a short write stopped. */
  private writeAll(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    writev(this.fd!, buffers, (error, written) => {
      if (error) {
        callback(error)
        return
      }
      let skip = written
      const rest: Buffer[] = []
      for (const buffer of buffers) {
        if (skip >= buffer.length) skip -= buffer.length
        else {
          rest.push(skip > 0 ? buffer.subarray(skip) : buffer)
          skip = 0
        }
      }
      if (rest.length === 0) callback()
      else this.writeAll(rest, callback)
    })
  }

  private closeFile(callback: (error?: Error | null) => void): void {
    const {fd} = this
    this.fd = undefined
    if (fd === undefined) callback()
    else close(fd, callback)
  }
}
