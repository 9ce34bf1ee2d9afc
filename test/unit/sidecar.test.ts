import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {IntegrityError} from '../../src/core/errors.js'
import {SIDECAR_MAX_BYTES, formatSidecar, normalizeDigest, parseSidecar} from '../../src/integrity/sidecar.js'

const HEX = 'ab'.repeat(32)
const integrity = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (error: unknown) => error instanceof IntegrityError && error.exitCode === 3 && pattern.test(error.message))
}

describe('parseSidecar', () => {
  it('reads sha256sum text mode output', () => {
    assert.deepEqual(parseSidecar(`${HEX}  busybox\n`, 's', 'busybox'), {name: 'busybox', sha256: HEX})
  })

  it('accepts the binary marker, uppercase hex, CRLF and a bare hash', () => {
    assert.deepEqual(parseSidecar(`${HEX.toUpperCase()} *busybox\r\n`, 's', 'busybox'), {name: 'busybox', sha256: HEX})
    assert.deepEqual(parseSidecar(`${HEX}\n`, 's', 'busybox'), {sha256: HEX})
    assert.deepEqual(parseSidecar(HEX, 's'), {sha256: HEX})
  })

  it('rejects a sidecar that names another file', () => {
    integrity(() => parseSidecar(`${HEX}  vmlinux.bin\n`, 'x.sha256', 'busybox'), /names 'vmlinux.bin', not 'busybox'/)
  })

  it('rejects malformed content with the sidecar named', () => {
    integrity(() => parseSidecar('', 'x.sha256'), /exactly one .* found 0/)
    integrity(() => parseSidecar('<html>404</html>', 'x.sha256'), /x\.sha256 is malformed/)
    integrity(() => parseSidecar(`${HEX.slice(1)}  busybox`, 'x.sha256'), /malformed/)
    integrity(() => parseSidecar(`${HEX}  busybox\n${HEX}  busybox\n`, 'x.sha256'), /found 2/)
    integrity(() => parseSidecar(`${HEX}busybox`, 'x.sha256'), /malformed/)
  })

  it('refuses more than 4 KiB', () => {
    integrity(() => parseSidecar(`${HEX}  busybox${' '.repeat(SIDECAR_MAX_BYTES)}`, 'x.sha256'), /larger than 4096 bytes/)
  })
})

describe('formatSidecar and normalizeDigest', () => {
  it('writes what sha256sum writes', () => {
    assert.equal(formatSidecar(HEX.toUpperCase(), 'busybox'), `${HEX}  busybox\n`)
  })

  it('accepts sha256: prefixed digests and rejects junk', () => {
    assert.equal(normalizeDigest(`sha256:${HEX.toUpperCase()}`, 'api'), HEX)
    integrity(() => normalizeDigest('deadbeef', '--sha256'), /--sha256 is not a sha256 digest/)
  })
})
