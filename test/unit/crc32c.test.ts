import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {describe, it} from 'node:test'

import {Crc32c, crc32cBase64} from '../../src/integrity/crc32c.js'
import {crc32c as reference, googHashes} from '../support/goog-hash.js'

describe('Crc32c', () => {
  it('gives the standard check value and the empty CRC', () => {
    assert.equal(new Crc32c().update(Buffer.from('123456789')).value(), 0xe3069283)
    assert.equal(new Crc32c().value(), 0)
  })

  it('matches the byte-at-a-time reference for any length, offset and chunking', () => {
    const data = randomBytes(10_000)
    for (let trial = 0; trial < 200; trial++) {
      const start = Math.floor(Math.random() * 64)
      const slice = data.subarray(start, start + Math.floor(Math.random() * 3000))
      const crc = new Crc32c()
      for (let at = 0; at < slice.length; ) {
        const step = 1 + Math.floor(Math.random() * 40)
        crc.update(slice.subarray(at, at + step))
        at += step
      }
      assert.equal(crc.value(), reference(slice), `trial ${trial}: ${slice.length} bytes at offset ${start}`)
    }
  })

  it('writes base64 big-endian, as GCS x-goog-hash does', () => {
    const data = randomBytes(1000)
    assert.equal(`crc32c=${crc32cBase64(data)}`, googHashes(data)[0])
  })
})
