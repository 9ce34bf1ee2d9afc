import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {type ListedFacts, compareContent, sameByMd5} from '../../src/integrity/content-identity.js'

const SHA_A = 'a'.repeat(64)
const SHA_B = 'b'.repeat(64)
const MD5_HEX = '0123456789abcdef0123456789abcdef'
const MD5_B64 = Buffer.from(MD5_HEX, 'hex').toString('base64')

function facts(size: number, extra: Partial<ListedFacts> = {}): ListedFacts {
  return {size, ...extra}
}

describe('compareContent', () => {
  it('calls two objects the same only through a shared digest, and names every digest that agreed', () => {
    assert.deepEqual(compareContent({sha256: SHA_A, size: 5}, {sha256: SHA_A, size: 5}), {by: ['sha256'], verdict: 'same'})
    assert.deepEqual(compareContent({crc32c: 'AAAAAA==', md5: MD5_B64, size: 5}, {crc32c: 'AAAAAA==', md5: MD5_B64, size: 5}), {
      by: ['crc32c', 'md5'],
      verdict: 'same',
    })
  })

  it('never calls equal sizes the same without a digest', () => {
    assert.deepEqual(compareContent({size: 5}, {size: 5}), {verdict: 'unknown'})
    assert.deepEqual(compareContent({sha256: SHA_A, size: 5}, {md5: MD5_B64, size: 5}), {verdict: 'unknown'})
  })

  it('calls different sizes different before looking at any digest', () => {
    assert.deepEqual(compareContent({sha256: SHA_A, size: 5}, {sha256: SHA_A, size: 6}), {by: 'size', verdict: 'different'})
  })

  it('lets a disagreeing service checksum override agreeing sha256 metadata', () => {
    const comparison = compareContent({crc32c: 'AAAAAA==', sha256: SHA_A, size: 5}, {crc32c: 'AAAAAQ==', sha256: SHA_A, size: 5})
    assert.deepEqual(comparison, {by: 'crc32c', verdict: 'different'})
  })

  it('never lets sha256 metadata alone make a stored object the same: a zero-filled object with the right tag is unknown (rehash it)', () => {
    assert.deepEqual(compareContent({metadataSha256: SHA_A, size: 5}, {sha256: SHA_A, size: 5}), {verdict: 'unknown'})
    assert.deepEqual(compareContent({metadataSha256: SHA_A, size: 5}, {metadataSha256: SHA_A, size: 5}), {verdict: 'unknown'})
  })

  it('lets a service sha256 that disagrees win over agreeing metadata', () => {
    assert.deepEqual(compareContent({metadataSha256: SHA_A, sha256: SHA_B, size: 5}, {sha256: SHA_A, size: 5}), {by: 'sha256', verdict: 'different'})
    // The expected side's claim is what the content should be: a service checksum of the stored bytes can confirm or refute it.
    assert.deepEqual(compareContent({sha256: SHA_A, size: 5}, {metadataSha256: SHA_A, size: 5}), {by: ['sha256'], verdict: 'same'})
  })

  it('lets disagreeing metadata show an object different when no service checksum says otherwise', () => {
    assert.deepEqual(compareContent({metadataSha256: SHA_B, size: 5}, {sha256: SHA_A, size: 5}), {by: 'sha256 metadata', verdict: 'different'})
    assert.deepEqual(compareContent({md5: MD5_B64, metadataSha256: SHA_B, size: 5}, {md5: MD5_B64, sha256: SHA_A, size: 5}), {by: ['md5'], verdict: 'same'})
  })

  it('reports the strongest disagreeing digest', () => {
    assert.deepEqual(compareContent({md5: MD5_B64, sha256: SHA_A, size: 5}, {md5: 'x', sha256: SHA_B, size: 5}), {by: 'sha256', verdict: 'different'})
  })
})

describe('sameByMd5', () => {
  const etag = `"${MD5_HEX}"`

  it('confirms an S3 object whose plain ETag is the MD5 the other side reports', () => {
    assert.equal(sameByMd5(facts(5, {md5: MD5_B64}), facts(5, {etag})), true)
    assert.equal(sameByMd5(facts(5, {etag}), facts(5, {etag})), true)
  })

  it('reads no MD5 from a multipart ETag, from no ETag at all, or across a different size', () => {
    assert.equal(sameByMd5(facts(5, {md5: MD5_B64}), facts(5, {etag: `"${MD5_HEX}-2"`})), false)
    assert.equal(sameByMd5(facts(5, {md5: MD5_B64}), facts(5)), false)
    assert.equal(sameByMd5(facts(5, {md5: MD5_B64}), facts(6, {etag})), false)
  })
})
