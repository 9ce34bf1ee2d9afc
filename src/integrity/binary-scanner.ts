/**
 * What a binary says about itself, learned from the chunks some other loop is
 * already reading (the up-to-date check hashes the whole file anyway): the
 * ELF machine from the first 20 bytes, and whether a version marker such as
 * `BusyBox v1.36.1 ` occurs anywhere, matches across chunk boundaries
 * included. No I/O of its own, so a synchronous or an asynchronous hashing
 * loop can feed it, and the file is never read twice.
 */
export interface ScannedIdentity {
  /** The ELF e_machine field; undefined when the content is not ELF. */
  readonly machine?: number
  /** Whether the marker was found (false when none was asked for). */
  readonly hasMarker: boolean
}

const ELF_MAGIC = 0x7f_45_4c_46
/** e_machine is a 16-bit field at offset 18 in both ELF classes. */
const HEAD_BYTES = 20

export class BinaryScanner {
  private readonly marker?: Buffer
  private head = Buffer.alloc(0)
  /** The last marker-length-minus-one bytes seen, for a match that straddles two chunks. */
  private tail = Buffer.alloc(0)
  private found = false

  constructor(marker?: string) {
    if (marker) this.marker = Buffer.from(marker, 'latin1')
  }

  update(chunk: Buffer): void {
    if (this.head.length < HEAD_BYTES) this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)])
    const {marker} = this
    if (!marker || this.found || chunk.length === 0) return
    const keep = marker.length - 1
    if (this.tail.length > 0) {
      // Only the seam needs the copy: the chunk itself is searched in place.
      const seam = Buffer.concat([this.tail, chunk.subarray(0, keep)])
      if (seam.includes(marker)) {
        this.found = true
        return
      }
    }
    if (chunk.includes(marker)) {
      this.found = true
      return
    }
    this.tail = chunk.length >= keep ? Buffer.from(chunk.subarray(chunk.length - keep)) : Buffer.concat([this.tail, chunk]).subarray(-keep)
  }

  result(): ScannedIdentity {
    const {head} = this
    let machine: number | undefined
    if (head.length >= HEAD_BYTES && head.readUInt32BE(0) === ELF_MAGIC && (head[5] === 1 || head[5] === 2)) {
      machine = head[5] === 1 ? head.readUInt16LE(18) : head.readUInt16BE(18)
    }
    return {hasMarker: this.found, ...(machine === undefined ? {} : {machine})}
  }
}
