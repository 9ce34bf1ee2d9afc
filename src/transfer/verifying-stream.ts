import {type Hash, createHash} from 'node:crypto'
import {Transform, type TransformCallback} from 'node:stream'

import {IntegrityError, TransientError} from '../core/errors.js'

/**
 * A pass-through that hashes what flows into a destination and fails the
 * stream, before it ends, when the content is not the expected sha256 and
 * size. A store's upload sees an error instead of an end of stream, so it
 * aborts rather than publishing unverified bytes.
 */
export class VerifyingStream extends Transform {
  private readonly hash: Hash = createHash('sha256')
  private bytes = 0

  constructor(
    private readonly expected: {readonly sha256: string; readonly size: number},
    private readonly where: string,
  ) {
    super({highWaterMark: 1 << 16})
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.expected.size) {
      callback(new IntegrityError(`${this.where} is longer than its listed ${this.expected.size} bytes: not copied`))
      return
    }
    this.hash.update(chunk)
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    if (this.bytes < this.expected.size) {
      // A short body is a broken transfer, worth a retry, not bad content.
      callback(new TransientError(`${this.where}: body ended after ${this.bytes} of ${this.expected.size} bytes`))
      return
    }
    const sha256 = this.hash.digest('hex')
    if (sha256 !== this.expected.sha256) {
      callback(new IntegrityError(`${this.where} has sha256 ${sha256}, but its metadata says ${this.expected.sha256}: not copied`))
      return
    }
    callback()
  }
}
