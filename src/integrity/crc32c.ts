/**
 * CRC32C (Castagnoli), the checksum GCS reports for every object (and S3 for
 * objects uploaded with it). Node has no CRC32C, and the GCS SDK's own is
 * byte-at-a-time; this one takes 8 bytes per step (slicing-by-8) read as two
 * little-endian words, several times faster, so that checking a download
 * against it costs little.
 */
const POLYNOMIAL = 0x82f63b78

/**
 * Eight 256-entry tables, flat: entry k*256+b is the CRC of byte b followed by
 * k zero bytes. Built on first use: the up-to-date check that runs on every
 * `make` loads this module but never needs it.
 */
let builtTable: Int32Array | undefined
const crcTable = (): Int32Array => (builtTable ??= buildTable())

function buildTable(): Int32Array {
  const table = new Int32Array(256 * 8)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = table[n]!
    for (let k = 1; k < 8; k++) {
      c = table[c & 0xff]! ^ (c >>> 8)
      table[k * 256 + n] = c
    }
  }
  return table
}

/** Word reads are little-endian only; elsewhere every byte goes the slow way. (Not node:os: loading it costs more than this.) */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function updateBytes(crc: number, data: Uint8Array, from: number, to: number): number {
  const t = crcTable()
  let c = crc
  for (let i = from; i < to; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return c
}

function update(crc: number, data: Uint8Array): number {
  if (!LITTLE_ENDIAN) return updateBytes(crc, data, 0, data.length)
  // Bytes up to the first 4-byte boundary one at a time, then 8 bytes per step, then the tail.
  const lead = Math.min((4 - (data.byteOffset & 3)) & 3, data.length)
  let c = updateBytes(crc, data, 0, lead)
  const words = Math.floor((data.length - lead) / 8) * 2
  if (words === 0) return updateBytes(c, data, lead, data.length)
  const view = new Int32Array(data.buffer, data.byteOffset + lead, words)
  const t = crcTable()
  for (let j = 0; j < words; j += 2) {
    const a = c ^ view[j]!
    const b = view[j + 1]!
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + (b & 0xff)]! ^
      t[512 + ((b >>> 8) & 0xff)]! ^
      t[256 + ((b >>> 16) & 0xff)]! ^
      t[b >>> 24]!
  }
  return updateBytes(c, data, lead + words * 4, data.length)
}

/** An incremental CRC32C: `update` with each chunk, then `base64()` as GCS and S3 write it. */
export class Crc32c {
  private crc = ~0

  update(data: Uint8Array): this {
    this.crc = update(this.crc, data)
    return this
  }

  /** The CRC as an unsigned 32-bit number. */
  value(): number {
    return ~this.crc >>> 0
  }

  /** Base64 of the big-endian CRC: the form of GCS `crc32c` and S3 `ChecksumCRC32C`. */
  base64(): string {
    const bytes = Buffer.alloc(4)
    bytes.writeUInt32BE(this.value())
    return bytes.toString('base64')
  }
}

export function crc32cBase64(data: Uint8Array): string {
  return new Crc32c().update(data).base64()
}
