import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {IntegrityError} from '../../src/core/errors.js'
import {MAX_KEY_BYTES, assertSafeKey, displayKey, keyProblem} from '../../src/core/keys.js'

describe('keyProblem: the one key-safety rule', () => {
  it('accepts the layouts artifacts use', () => {
    for (const key of ['1.36.1/amd64/busybox', '1.36.1/amd64/busybox.sha256', '6.1.102/vmlinux.bin', 'v1.10.1/arm64/firecracker-debug.debug', '...sha256', 'a..b/c', `${'x'.repeat(MAX_KEY_BYTES)}`]) {
      assert.equal(keyProblem(key), undefined, key)
    }
  })

  const unsafe: Array<[string, RegExp]> = [
    ['', /empty/],
    ['..', /'\.\.' segment/],
    ['../../../../tmp/x', /'\.\.' segment/],
    ['1.36.1/amd64/..', /'\.\.' segment/],
    ['1.36.1/./busybox', /'\.' segment/],
    ['.', /'\.' segment/],
    ['/etc/passwd', /starts with \//],
    ['1.36.1//busybox', /empty segment/],
    ['1.36.1/amd64/', /empty segment/],
    ['1.36.1\\..\\..\\x', /backslash/],
    ['bell\u0007', /control character/],
    ['new\nline', /control character/],
    ['del\u007F', /control character/],
    ['c1\u0085', /control character/],
    ['x'.repeat(MAX_KEY_BYTES + 1), /longer than 1024 bytes/],
    ['é'.repeat(513), /longer than 1024 bytes/],
  ]
  for (const [key, why] of unsafe) {
    it(`refuses ${JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}…` : key)}`, () => {
      assert.match(keyProblem(key) ?? 'accepted', why)
      assert.throws(() => assertSafeKey(key, 'gs://b'), (error: unknown) => error instanceof IntegrityError && error.exitCode === 3 && /unsafe object name/.test(error.message))
    })
  }
})

describe('displayKey', () => {
  it('prints any key on one line: control characters and backslashes escaped, long keys cut', () => {
    assert.equal(displayKey('a\u0007b\nc\\d'), String.raw`a\x07b\x0ac\\d`)
    assert.equal(displayKey('1.36.1/amd64/busybox'), '1.36.1/amd64/busybox')
    assert.equal(displayKey('x'.repeat(300)), `${'x'.repeat(200)}…`)
  })
})
