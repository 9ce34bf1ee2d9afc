import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import type {ObjectInfo} from '../../src/stores/store.js'
import {compareObjects, sameByEtag} from '../../src/transfer/compare-objects.js'
import {planCopies} from '../../src/transfer/copy-plan.js'

const SHA_A = 'a'.repeat(64)
const SHA_B = 'b'.repeat(64)
const MD5_HEX = '0123456789abcdef0123456789abcdef'
const MD5_B64 = Buffer.from(MD5_HEX, 'hex').toString('base64')

function object(key: string, size: number, extra: Partial<ObjectInfo> = {}): ObjectInfo {
  return {key, size, ...extra}
}

describe('compareObjects', () => {
  it('calls two objects the same only through a shared digest, and names every digest that agreed', () => {
    assert.deepEqual(compareObjects({sha256: SHA_A, size: 5}, {sha256: SHA_A, size: 5}), {by: ['sha256'], verdict: 'same'})
    assert.deepEqual(compareObjects({crc32c: 'AAAAAA==', md5: MD5_B64, size: 5}, {crc32c: 'AAAAAA==', md5: MD5_B64, size: 5}), {
      by: ['crc32c', 'md5'],
      verdict: 'same',
    })
  })

  it('never calls equal sizes the same without a digest', () => {
    assert.deepEqual(compareObjects({size: 5}, {size: 5}), {verdict: 'unknown'})
    assert.deepEqual(compareObjects({sha256: SHA_A, size: 5}, {md5: MD5_B64, size: 5}), {verdict: 'unknown'})
  })

  it('calls different sizes different before looking at any digest', () => {
    assert.deepEqual(compareObjects({sha256: SHA_A, size: 5}, {sha256: SHA_A, size: 6}), {by: 'size', verdict: 'different'})
  })

  it('lets a disagreeing service checksum override agreeing sha256 metadata', () => {
    const comparison = compareObjects({crc32c: 'AAAAAA==', sha256: SHA_A, size: 5}, {crc32c: 'AAAAAQ==', sha256: SHA_A, size: 5})
    assert.deepEqual(comparison, {by: 'crc32c', verdict: 'different'})
  })

  it('reports the strongest disagreeing digest', () => {
    assert.deepEqual(compareObjects({md5: MD5_B64, sha256: SHA_A, size: 5}, {md5: 'x', sha256: SHA_B, size: 5}), {by: 'sha256', verdict: 'different'})
  })
})

describe('sameByEtag', () => {
  const etag = `"${MD5_HEX}"`

  it('confirms an S3 object whose plain ETag is the MD5 the other side reports', () => {
    assert.equal(sameByEtag(object('k', 5, {md5: MD5_B64}), 'gcs', object('k', 5, {version: etag}), 's3'), true)
    assert.equal(sameByEtag(object('k', 5, {version: etag}), 's3', object('k', 5, {version: etag}), 's3'), true)
  })

  it('reads no MD5 from a multipart ETag, a GCS generation, or a different size', () => {
    assert.equal(sameByEtag(object('k', 5, {md5: MD5_B64}), 'gcs', object('k', 5, {version: `"${MD5_HEX}-2"`}), 's3'), false)
    assert.equal(sameByEtag(object('k', 5, {md5: MD5_B64}), 'gcs', object('k', 5, {version: MD5_HEX}), 'gcs'), false)
    assert.equal(sameByEtag(object('k', 5, {md5: MD5_B64}), 'gcs', object('k', 6, {version: etag}), 's3'), false)
  })
})

describe('planCopies', () => {
  it('pairs every object with its sidecar, whatever the layout, and keeps orphan sidecars as plain objects', () => {
    const plan = planCopies([
      object('1.36.1/amd64/busybox.sha256', 80),
      object('1.36.1/amd64/busybox', 2000),
      object('vmlinux-6.1/vmlinux.bin', 9000),
      object('vmlinux-6.1/vmlinux.bin.sha256', 90),
      object('1.36.1/arm64/busybox.sha256', 80),
      object('README', 10),
    ])
    assert.deepEqual(
      plan.units.map((unit) => [unit.object.key, unit.sidecar?.key]),
      [
        ['vmlinux-6.1/vmlinux.bin', 'vmlinux-6.1/vmlinux.bin.sha256'],
        ['1.36.1/amd64/busybox', '1.36.1/amd64/busybox.sha256'],
        ['1.36.1/arm64/busybox.sha256', undefined],
        ['README', undefined],
      ],
    )
    assert.deepEqual(plan.orphanSidecars, ['1.36.1/arm64/busybox.sha256'])
  })

  it('orders the largest objects first, ties by key, and counts a key listed twice once', () => {
    const plan = planCopies([object('b', 1), object('a', 1), object('c', 3), object('a', 1)])
    assert.deepEqual(
      plan.units.map((unit) => unit.object.key),
      ['c', 'a', 'b'],
    )
  })
})
