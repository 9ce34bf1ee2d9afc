/**
 * The checksums GCS reports in `x-goog-hash`: CRC32C (Castagnoli) and MD5,
 * each base64 of the big-endian digest. Node 20 has no CRC32C, and test
 * support must not lean on the code under test, hence this small table-driven
 * one.
 */
import {createHash} from 'node:crypto'

const TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff
  for (const byte of data) c = TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** The two `x-goog-hash` header values GCS sends for `data`: [`crc32c=…`, `md5=…`]. */
export function googHashes(data: Uint8Array): [string, string] {
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32c(data))
  return [`crc32c=${crc.toString('base64')}`, `md5=${createHash('md5').update(data).digest('base64')}`]
}
