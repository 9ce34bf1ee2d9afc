import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {IntegrityError} from '../../src/core/errors.js'
import {SHA256SUMS_MAX_BYTES, digestFor, parseSha256Sums} from '../../src/integrity/sha256sums.js'

const A = 'a'.repeat(64)
const B = '0123456789abcdef'.repeat(4)
const WHERE = 'github:e2b-dev/fc-busybox@v1.36.1/SHA256SUMS'

describe('parseSha256Sums', () => {
  it('reads both arches as sha256sum writes them', () => {
    const sums = parseSha256Sums(`${A}  busybox_v1.36.1_amd64\n${B}  busybox_v1.36.1_arm64\n`, WHERE)
    assert.deepEqual([...sums], [
      ['busybox_v1.36.1_amd64', A],
      ['busybox_v1.36.1_arm64', B],
    ])
  })

  it('accepts the binary-mode * marker, uppercase hex, ./ prefixes, CRLF, a BOM and blank lines', () => {
    const text = `\uFEFF${A.toUpperCase()} *busybox_v1.36.1_amd64\r\n\r\n${B} *./busybox_v1.36.1_arm64\r\n`
    const sums = parseSha256Sums(Buffer.from(text), WHERE)
    assert.equal(sums.get('busybox_v1.36.1_amd64'), A)
    assert.equal(sums.get('busybox_v1.36.1_arm64'), B)
  })

  it('keeps names with spaces whole', () => {
    assert.equal(parseSha256Sums(`${A}  my file.bin\n`, WHERE).get('my file.bin'), A)
  })

  it('rejects garbage, naming the file and the line', () => {
    for (const text of [
      `${A}  busybox_v1.36.1_amd64\nnot a checksum line\n`,
      `${A.slice(1)}  busybox\n`,
      `${A}busybox\n`,
      `${A} busybox\n`,
      `SHA256 (busybox) = ${A}\n`,
      `<html>rate limited</html>`,
    ]) {
      assert.throws(
        () => parseSha256Sums(text, WHERE),
        (error: unknown) => error instanceof IntegrityError && error.message.startsWith(`${WHERE} line `) && error.message.includes('malformed'),
        JSON.stringify(text),
      )
    }
  })

  it('rejects an empty listing, an oversized one, and a name listed twice with different digests', () => {
    assert.throws(() => parseSha256Sums('\n\n', WHERE), /lists no files/)
    assert.throws(() => parseSha256Sums(Buffer.alloc(SHA256SUMS_MAX_BYTES + 1, 0x20), WHERE), /larger than/)
    assert.throws(() => parseSha256Sums(`${A}  busybox\n${B}  busybox\n`, WHERE), /lists 'busybox' twice with different digests/)
    assert.equal(parseSha256Sums(`${A}  busybox\n${A} *busybox\n`, WHERE).get('busybox'), A)
  })

  it('refuses the whole file when it names a file by an unsafe name (key safety)', () => {
    for (const [name, why] of [['../../etc/passwd', /'\.\.' segment/], ['dist\\busybox', /backslash/], ['/busybox', /starts with \//], ['bell\u0007', /control character/]] as const) {
      assert.throws(
        () => parseSha256Sums(`${A}  busybox_v1.36.1_amd64\n${B}  ${name}\n`, WHERE),
        (error: unknown) => error instanceof IntegrityError && /line 2 names '.*', an unsafe name/.test(error.message) && why.test(error.message),
        name,
      )
    }
    assert.equal(parseSha256Sums(`${A}  ./dist/busybox\n`, WHERE).get('dist/busybox'), A)
  })
})

describe('digestFor', () => {
  const sums = parseSha256Sums(`${A}  busybox_v1.36.1_amd64\n`, WHERE)

  it('returns the entry for a listed name', () => {
    assert.equal(digestFor(sums, 'busybox_v1.36.1_amd64', WHERE), A)
  })

  it('treats a missing entry as an integrity failure that says what is listed', () => {
    assert.throws(
      () => digestFor(sums, 'busybox_v1.36.1_arm64', WHERE),
      (error: unknown) =>
        error instanceof IntegrityError && error.exitCode === 3 && /has no entry for busybox_v1\.36\.1_arm64 \(it lists busybox_v1\.36\.1_amd64\)/.test(error.message),
    )
  })
})
