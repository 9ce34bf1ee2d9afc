import assert from 'node:assert/strict'
import {readFile, readdir, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {after, describe, it} from 'node:test'

import {FileSink} from '../../src/core/file-sink.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

after(removeTempDirs)

describe('FileSink', () => {
  it('writes every chunk of a stream to a new file with the given mode', async () => {
    const file = path.join(await tempDir('sink'), 'out')
    const chunks = Array.from({length: 40}, (_, i) => Buffer.alloc(65_536 + i, i))
    await pipeline(Readable.from(chunks), new FileSink(file, 0o600))
    assert.deepEqual(await readFile(file), Buffer.concat(chunks))
    assert.equal((await stat(file)).mode & 0o777, 0o600)
  })

  it('never writes into an existing file, and fails with its path', async () => {
    const file = path.join(await tempDir('sink'), 'taken')
    await writeFile(file, 'kept')
    await assert.rejects(pipeline(Readable.from([Buffer.from('new')]), new FileSink(file, 0o600)), {code: 'EEXIST', path: file})
    assert.equal(await readFile(file, 'utf8'), 'kept')
  })

  it('closes the file when the stream fails, leaving it for the caller to discard', async () => {
    const file = path.join(await tempDir('sink'), 'partial')
    const openFiles = async (): Promise<number> => (await readdir('/proc/self/fd')).length
    const before = await openFiles()
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('part')
      throw new Error('body reset')
    }
    const sink = new FileSink(file, 0o600)
    await assert.rejects(pipeline(Readable.from(failing()), sink), /body reset/)
    assert.ok(sink.destroyed)
    assert.ok((await stat(file)).isFile())
    assert.equal(await openFiles(), before, 'no file descriptor left open')
  })
})
