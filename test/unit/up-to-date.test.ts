import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, describe, it} from 'node:test'

import {sha256File, sha256FileSync} from '../../src/integrity/hash.js'
import {CATALOG} from '../../src/core/catalog.js'
import {localDigestMatches as matches} from '../../src/services/fetch/up-to-date.js'
import {FIXTURE_VERSION, busyboxBytes} from '../support/fixtures.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const MiB = 1 << 20

after(removeTempDirs)

describe('sha256FileSync', () => {
  it('hashes files across its 1 MiB reads exactly as the streaming hash does', async () => {
    const dir = await tempDir('hash-sync')
    for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 12345]) {
      const file = path.join(dir, `f${size}`)
      const content = randomBytes(size)
      await writeFile(file, content)
      assert.deepEqual(sha256FileSync(file), {sha256: sha(content), size}, `${size} bytes`)
      assert.deepEqual(sha256FileSync(file), await sha256File(file))
    }
  })

  it('throws for a missing file and a directory', async () => {
    const dir = await tempDir('hash-sync')
    assert.throws(() => sha256FileSync(path.join(dir, 'missing')), {code: 'ENOENT'})
    assert.throws(() => sha256FileSync(dir), {code: 'EISDIR'})
  })
})

/** The fixture's own identity: an x86-64 static busybox announcing FIXTURE_VERSION. */
const WANTED = {arch: 'amd64', artifact: CATALOG.busybox, version: FIXTURE_VERSION} as const
const localDigestMatches = (file: string, pin?: string): ReturnType<typeof matches> => matches(file, WANTED, pin)

describe('localDigestMatches (synchronous)', () => {
  async function setUp(content: Buffer | string, sidecar: string): Promise<string> {
    const dir = await tempDir('up-to-date')
    const file = path.join(dir, 'busybox')
    await writeFile(file, content)
    await writeFile(`${file}.sha256`, sidecar)
    return file
  }

  it('matches a file and its sidecar, and the pin when given', async () => {
    const binary = await busyboxBytes('amd64')
    const file = await setUp(binary, `${sha(binary)}  busybox\n`)
    assert.deepEqual(localDigestMatches(file), {sha256: sha(binary), size: binary.length})
    assert.deepEqual(localDigestMatches(file, sha(binary)), {sha256: sha(binary), size: binary.length})
    assert.equal(localDigestMatches(file, sha('other')), undefined)
  })

  it('matches only the wanted version and arch, read from the same pass', async () => {
    const binary = await busyboxBytes('amd64')
    const file = await setUp(binary, `${sha(binary)}  busybox\n`)
    assert.equal(matches(file, {...WANTED, arch: 'arm64'}), undefined, 'an x86-64 file is not arm64')
    assert.equal(matches(file, {...WANTED, version: '9.9.9'}), undefined, 'the banner names another version')
    const notElf = await setUp('binary', `${sha('binary')}  busybox\n`)
    assert.equal(localDigestMatches(notElf), undefined, 'a file matching its sidecar but not an ELF binary')
  })

  it('never throws: anything short of a match is undefined', async () => {
    const dir = await tempDir('up-to-date')
    assert.equal(localDigestMatches(path.join(dir, 'missing')), undefined)
    assert.equal(localDigestMatches(await setUp('binary', `${sha('other')}  busybox\n`)), undefined, 'another digest')
    assert.equal(localDigestMatches(await setUp('binary', 'not a sidecar\n')), undefined, 'a malformed sidecar')
    assert.equal(localDigestMatches(await setUp('binary', `${sha('binary')}  other-file\n`)), undefined, 'a sidecar naming another file')
    assert.equal(localDigestMatches(await setUp('binary', `${sha('binary')}  busybox\n`.repeat(200))), undefined, 'a sidecar over 4 KiB')

    const sidecarOnly = path.join(dir, 'only-sidecar')
    await writeFile(`${sidecarOnly}.sha256`, `${sha('x')}  only-sidecar\n`)
    assert.equal(localDigestMatches(sidecarOnly), undefined, 'no file')

    const directory = path.join(dir, 'a-directory')
    await mkdir(directory)
    await writeFile(`${directory}.sha256`, `${sha('x')}  a-directory\n`)
    assert.equal(localDigestMatches(directory), undefined, 'a directory at PATH')

    const sidecarDirectory = path.join(dir, 'sidecar-directory')
    await writeFile(sidecarDirectory, 'x')
    await mkdir(`${sidecarDirectory}.sha256`)
    assert.equal(localDigestMatches(sidecarDirectory), undefined, 'a directory as the sidecar')
  })

  it('does not open a FIFO at PATH (that would block)', async () => {
    const dir = await tempDir('up-to-date')
    const fifo = path.join(dir, 'busybox')
    execFileSync('mkfifo', [fifo])
    await writeFile(`${fifo}.sha256`, `${sha('x')}  busybox\n`)
    assert.equal(localDigestMatches(fifo), undefined)
  })
})
