import assert from 'node:assert/strict'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, afterEach, describe, it} from 'node:test'

import {CATALOG} from '../../src/core/catalog.js'
import {ExitCode, UsageError} from '../../src/core/errors.js'
import {findJsonSyntaxError} from '../../src/integrity/json-error.js'
import {type LockEntry, entryForFile, findEntry, formatLockFile, parseLockFile, withEntries} from '../../src/integrity/lock-file.js'
import {chooseLockPath, readLockFile} from '../../src/services/shared/lock-file-io.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const C = 'c'.repeat(64)
const AT = '2026-04-01T12:00:00.000Z'

function entry(fields: Partial<LockEntry> = {}): LockEntry {
  return {arch: 'amd64', artifact: 'busybox', file: 'busybox', lockedAt: AT, sha256: A, size: 10, source: 'github:e2b-dev/fc-busybox@v1.36.1', version: '1.36.1', ...fields}
}

/** The usage error (exit 2) that parsing `text` as `where` raises, by its message. */
function parseError(text: string, where = 'e2b-artifacts.lock'): string {
  try {
    parseLockFile(text, where)
  } catch (error) {
    assert.ok(error instanceof UsageError, `a UsageError, not ${String(error)}`)
    assert.equal(error.exitCode, ExitCode.usage)
    return error.message
  }
  assert.fail(`parsed: ${text}`)
}

const document = (entries: unknown[]): string => JSON.stringify({entries, lockfileVersion: 1}, null, 2)

after(removeTempDirs)

describe('formatLockFile', () => {
  it('writes sorted keys, two-space indent and a trailing newline', () => {
    assert.equal(
      formatLockFile({entries: [entry()]}),
      `{
  "entries": [
    {
      "arch": "amd64",
      "artifact": "busybox",
      "file": "busybox",
      "lockedAt": "${AT}",
      "sha256": "${A}",
      "size": 10,
      "source": "github:e2b-dev/fc-busybox@v1.36.1",
      "version": "1.36.1"
    }
  ],
  "lockfileVersion": 1
}
`,
    )
    assert.equal(formatLockFile({entries: []}), '{\n  "entries": [],\n  "lockfileVersion": 1\n}\n')
  })

  it('orders entries by artifact, version, arch and file, by code point, whatever order they come in', () => {
    const entries = [
      entry({artifact: 'kernel', file: 'vmlinux.debug', version: 'vmlinux-6.1.158'}),
      entry({arch: 'arm64', version: '1.36.1'}),
      entry({artifact: 'kernel', file: 'vmlinux.bin', version: 'vmlinux-6.1.158'}),
      entry({version: '1.9.0'}),
      entry({version: '1.36.1'}),
      entry({artifact: 'firecracker', file: 'firecracker', version: 'v1.12.1'}),
    ]
    const text = formatLockFile({entries})
    for (let round = 0; round < 20; round++) {
      const shuffled = [...entries].sort(() => Math.random() - 0.5)
      assert.equal(formatLockFile({entries: shuffled}), text)
      // Added one at a time, in any order, too.
      assert.equal(formatLockFile(shuffled.reduce((lock, one) => withEntries(lock, [one]), {entries: []} as {entries: readonly LockEntry[]})), text)
    }
    const order = parseLockFile(text, 'x').entries.map((e) => `${e.artifact} ${e.version}/${e.arch}/${e.file}`)
    assert.deepEqual(order, [
      'busybox 1.36.1/amd64/busybox',
      'busybox 1.36.1/arm64/busybox',
      'busybox 1.9.0/amd64/busybox',
      'firecracker v1.12.1/amd64/firecracker',
      'kernel vmlinux-6.1.158/amd64/vmlinux.bin',
      'kernel vmlinux-6.1.158/amd64/vmlinux.debug',
    ])
  })

  it('round-trips through parseLockFile, and withEntries replaces the entry of a slot instead of adding a second', () => {
    const lock = {entries: [entry(), entry({arch: 'arm64', sha256: B})]}
    const text = formatLockFile(lock)
    assert.equal(formatLockFile(parseLockFile(text, 'x')), text)
    const updated = withEntries(parseLockFile(text, 'x'), [entry({lockedAt: '2026-05-01T00:00:00.000Z', sha256: C})])
    assert.deepEqual(
      updated.entries.map((e) => [e.arch, e.sha256, e.lockedAt]),
      [
        ['amd64', C, '2026-05-01T00:00:00.000Z'],
        ['arm64', B, AT],
      ],
    )
  })
})

describe('finding entries', () => {
  const lock = {entries: [entry(), entry({artifact: 'kernel', file: 'vmlinux.bin', version: 'vmlinux-6.1.102'})]}

  it('matches artifact, version, arch and file exactly: another arch, version or file is no entry', () => {
    assert.equal(findEntry(lock, {arch: 'amd64', artifact: 'busybox', file: 'busybox', version: '1.36.1'})?.sha256, A)
    assert.equal(findEntry(lock, {arch: 'arm64', artifact: 'busybox', file: 'busybox', version: '1.36.1'}), undefined)
    assert.equal(findEntry(lock, {arch: 'amd64', artifact: 'busybox', file: 'busybox', version: '1.36.2'}), undefined)
    assert.equal(findEntry(lock, {arch: 'amd64', artifact: 'kernel', file: 'vmlinux.debug', version: 'vmlinux-6.1.102'}), undefined)
  })

  it('reads a legacy flat build (no arch level) as amd64, for the artifacts that have one', () => {
    assert.equal(entryForFile(lock, CATALOG.kernel, 'vmlinux-6.1.102', undefined, 'vmlinux.bin')?.arch, 'amd64')
    assert.equal(entryForFile(lock, CATALOG.busybox, '1.36.1', undefined, 'busybox'), undefined)
  })
})

describe('parseLockFile: JSON syntax errors name the file and the line', () => {
  const valid = formatLockFile({entries: [entry()]})
  const lines = valid.split('\n')
  const withLine = (index: number, text: string): string => lines.map((line, at) => (at === index ? text : line)).join('\n')

  it('a trailing comma, on its line', () => {
    // Line 11 is `"version": "1.36.1"`, the last property of the entry; the error shows on the next line.
    assert.equal(lines[10]!.trim(), '"version": "1.36.1"')
    assert.equal(
      parseError(withLine(10, '      "version": "1.36.1",')),
      "e2b-artifacts.lock:12: invalid JSON: expected a property name in double quotes (no trailing comma after the last property); fix it, or restore the file from version control",
    )
  })

  it('a missing comma, on the line of the next property', () => {
    assert.match(parseError(withLine(6, `      "lockedAt": "${AT}"`), 'repo/e2b-artifacts.lock'), /^repo\/e2b-artifacts\.lock:8: invalid JSON: expected ',' or '}' after the property value; /)
  })

  it('a string broken over two lines, on the line where it breaks', () => {
    assert.match(parseError(withLine(9, '      "source": "github:e2b-dev/\nfc-busybox@v1.36.1",')), /^e2b-artifacts\.lock:10: invalid JSON: control character U\+000A inside a string/)
  })

  it('single quotes, a cut-off file and text after the end', () => {
    assert.match(parseError(withLine(2, "    {'arch': 'amd64',")), /^e2b-artifacts\.lock:3: invalid JSON: expected a property name in double quotes/)
    assert.match(parseError(lines.slice(0, 8).join('\n') + '\n\n\n'), /^e2b-artifacts\.lock:8: invalid JSON: unexpected end of the file; /)
    assert.match(parseError(`${valid}}\n`), /^e2b-artifacts\.lock:16: invalid JSON: unexpected '}' after the end of the JSON document/)
    assert.match(parseError(''), /^e2b-artifacts\.lock:1: invalid JSON: unexpected end of the file/)
  })

  it('accepts a byte-order mark, as editors may write one', () => {
    assert.equal(parseLockFile(`\uFEFF${valid}`, 'x').entries.length, 1)
  })

  it('the locator agrees with JSON.parse on what is valid', () => {
    const samples = ['{}', '[]', '[1, -2.5e+3, "a\\u00e9\\n", true, false, null, {"a": [{}]}]', '"x"', '0', ' {"a" : 1 } ', '{"a":1,}', '[1,]', '[01]', '{"a" 1}', '"\\x"', '[1 2]', 'nul', '{"a":1}}', '-', '1.', '"\\u12"']
    for (const sample of samples) {
      let valid = true
      try {
        JSON.parse(sample)
      } catch {
        valid = false
      }
      assert.equal(findJsonSyntaxError(sample) === undefined, valid, sample)
    }
  })
})

describe('parseLockFile: a bad entry is named', () => {
  const one = (fields: Record<string, unknown>): string => document([{...entry(), ...fields}])

  it('a bad digest, an unknown arch or artifact, an unsafe version, a file the artifact does not have', () => {
    const named = 'e2b-artifacts.lock: entry 1 (busybox 1.36.1/amd64/busybox)'
    const next = '; fix it, or restore the file from version control'
    assert.equal(parseError(one({sha256: 'abc'})), `${named} has a 'sha256' that is not a sha256 digest (64 lowercase hex digits): 'abc'${next}`)
    assert.equal(parseError(one({sha256: A.toUpperCase()})), `${named} has a 'sha256' that is not a sha256 digest (64 lowercase hex digits): '${A.toUpperCase()}'${next}`)
    assert.equal(parseError(one({arch: 'x86_64'})), `e2b-artifacts.lock: entry 1 (busybox 1.36.1/x86_64/busybox) has an unknown arch 'x86_64' (expected amd64 or arm64)${next}`)
    assert.equal(parseError(one({artifact: 'nginx'})), `e2b-artifacts.lock: entry 1 (nginx 1.36.1/amd64/busybox) has an unknown artifact 'nginx' (expected one of busybox, kernel, firecracker)${next}`)
    assert.match(parseError(one({version: '../1'})), /^e2b-artifacts\.lock: entry 1 \(busybox \.\.\/1\/amd64\/busybox\) has an unsafe version: invalid version '\.\.\/1'/)
    assert.equal(parseError(one({file: 'vmlinux.bin'})), `e2b-artifacts.lock: entry 1 (busybox 1.36.1/amd64/vmlinux.bin) names a file 'vmlinux.bin' that busybox does not have (expected busybox)${next}`)
  })

  it('a missing or unknown field, a bad size or time, and the same slot twice', () => {
    const {size: _size, ...withoutSize} = entry()
    assert.match(parseError(document([withoutSize])), /entry 1 \(busybox 1\.36\.1\/amd64\/busybox\) has no 'size'/)
    assert.match(parseError(one({sha265: A})), /entry 1 \(.*\) has an unknown field 'sha265'/)
    assert.match(parseError(one({size: -1})), /has a 'size' that is not a whole number of bytes/)
    assert.match(parseError(one({size: '10'})), /has a 'size' that is not a whole number of bytes/)
    assert.match(parseError(one({lockedAt: 'yesterday'})), /has a 'lockedAt' that is not an ISO 8601 UTC time/)
    assert.match(parseError(one({source: ''})), /has a 'source' that is not 1-2048 printable characters/)
    assert.match(parseError(document([entry(), entry({arch: 'arm64'}), entry({sha256: B})])), /^e2b-artifacts\.lock: entry 3 \(busybox 1\.36\.1\/amd64\/busybox\) pins busybox 1\.36\.1\/amd64\/busybox a second time/)
    assert.match(parseError(document(['busybox'])), /^e2b-artifacts\.lock: entry 1 is not an object/)
  })

  it('a document that is not a lock file, or of a newer format', () => {
    assert.match(parseError('[]'), /^e2b-artifacts\.lock: not an e2b-artifacts lock file \(expected \{"entries": \[\.\.\.\], "lockfileVersion": 1\}\)/)
    assert.match(parseError('{"entries": [], "lockfileVersion": 2}'), /^e2b-artifacts\.lock: lockfileVersion 2 is not one this e2b-artifacts reads \(1\): upgrade e2b-artifacts/)
    assert.match(parseError('{"entries": [], "lockfileVersion": 1, "extra": true}'), /^e2b-artifacts\.lock: unknown field 'extra'/)
  })
})

describe('chooseLockPath and readLockFile', () => {
  afterEach(() => {
    Reflect.deleteProperty(process.env, 'E2B_ARTIFACTS_LOCK')
  })

  it('finds e2b-artifacts.lock in the working directory or the nearest directory above it', async () => {
    const root = await tempDir('lock-find')
    const deep = path.join(root, 'a', 'b', 'c')
    await mkdir(deep, {recursive: true})
    await writeFile(path.join(root, 'a', 'e2b-artifacts.lock'), formatLockFile({entries: [entry()]}))
    assert.deepEqual(chooseLockPath({}, {discover: true}, deep), {display: path.join('..', '..', 'e2b-artifacts.lock'), path: path.join(root, 'a', 'e2b-artifacts.lock')})
    assert.deepEqual(chooseLockPath({}, {discover: true}, path.join(root, 'a')), {display: 'e2b-artifacts.lock', path: path.join(root, 'a', 'e2b-artifacts.lock')})
    assert.equal(chooseLockPath({}, {discover: false}, deep), undefined, 'verify and copy never look')
    assert.equal(chooseLockPath({noLock: true}, {discover: true}, deep), undefined)
    assert.equal(readLockFile(chooseLockPath({}, {discover: true}, deep)!)?.entries[0]?.sha256, A)
  })

  it('--lock, then E2B_ARTIFACTS_LOCK, win over looking; --lock with --no-lock is a usage error', async () => {
    const root = await tempDir('lock-named')
    process.env.E2B_ARTIFACTS_LOCK = 'from-env.lock'
    assert.deepEqual(chooseLockPath({}, {discover: false}, root), {display: 'from-env.lock', namedBy: 'E2B_ARTIFACTS_LOCK', path: path.join(root, 'from-env.lock')})
    assert.deepEqual(chooseLockPath({lock: 'x.lock'}, {discover: true}, root), {display: 'x.lock', namedBy: '--lock', path: path.join(root, 'x.lock')})
    assert.equal(chooseLockPath({noLock: true}, {discover: true}, root), undefined, '--no-lock wins over the variable')
    assert.throws(() => chooseLockPath({lock: 'x.lock', noLock: true}, {discover: true}, root), /--lock and --no-lock contradict each other/)
  })

  it('refuses a missing named file (unless it may be created), a directory, and a FIFO without opening it', async () => {
    const root = await tempDir('lock-kinds')
    await mkdir(path.join(root, 'dir'))
    assert.throws(() => readLockFile({display: 'nope.lock', namedBy: '--lock', path: path.join(root, 'nope.lock')}), /^UsageError: --lock 'nope\.lock': no such file/)
    assert.equal(readLockFile({display: 'nope.lock', namedBy: '--lock', path: path.join(root, 'nope.lock')}, {mayBeMissing: true}), undefined)
    assert.throws(() => readLockFile({display: 'dir', namedBy: 'E2B_ARTIFACTS_LOCK', path: path.join(root, 'dir')}), /E2B_ARTIFACTS_LOCK='dir' is a directory, not a lock file/)
  })
})
