import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {BinaryScanner} from '../../src/integrity/binary-scanner.js'
import {busyboxBytes, FIXTURE_VERSION} from '../support/fixtures.js'
import {buildElf} from '../support/elf-builder.js'

/** Feeds `data` to a scanner in chunks of `size` bytes. */
function scan(data: Buffer, marker: string | undefined, size: number): ReturnType<BinaryScanner['result']> {
  const scanner = new BinaryScanner(marker)
  for (let at = 0; at < data.length; at += size) scanner.update(data.subarray(at, at + size))
  return scanner.result()
}

describe('BinaryScanner', () => {
  it('reads the ELF machine and finds the BusyBox marker in the real fixtures, at any chunk size', async () => {
    for (const [arch, machine] of [['amd64', 62], ['arm64', 183]] as const) {
      const data = await busyboxBytes(arch)
      for (const size of [1 << 20, 65_536, 4099, 7]) {
        assert.deepEqual(scan(data, `BusyBox v${FIXTURE_VERSION} `, size), {hasMarker: true, machine}, `${arch} in ${size}-byte chunks`)
      }
      assert.deepEqual(scan(data, 'BusyBox v9.9.9 ', 65_536), {hasMarker: false, machine})
      // v1.35.0 must not match a v1.35.01 build: the trailing space is part of the marker.
      assert.equal(scan(data, `BusyBox v${FIXTURE_VERSION}1 `, 65_536).hasMarker, false)
    }
  })

  it('finds a marker that straddles any chunk boundary', () => {
    const marker = 'BusyBox v1.36.1 '
    const data = Buffer.concat([Buffer.alloc(100, 0x41), Buffer.from(marker), Buffer.alloc(100, 0x42)])
    for (let size = 1; size <= 40; size++) assert.equal(scan(data, marker, size).hasMarker, true, `chunks of ${size}`)
  })

  it('reports no machine for content that is not ELF, and big-endian machines correctly', () => {
    assert.deepEqual(scan(Buffer.from('<html>not a kernel</html>'), undefined, 3), {hasMarker: false})
    assert.equal(scan(buildElf({bigEndian: true, machine: 22}), undefined, 5).machine, 22)
    assert.equal(scan(buildElf({bits: 32, machine: 40}), undefined, 1).machine, 40)
    assert.deepEqual(scan(Buffer.alloc(0), 'x', 1), {hasMarker: false})
  })
})
