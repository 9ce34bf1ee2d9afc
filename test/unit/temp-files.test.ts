import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, describe, it} from 'node:test'

import {isTempName, sweepStaleTemps, tempPathFor} from '../../src/core/temp-files.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

after(removeTempDirs)

/** A temp name as another process of ours on this machine would make it. */
function nameOwnedBy(pid: number, start: string): string {
  const mine = path.basename(tempPathFor(path.join('/nonexistent-dir', 'busybox')))
  const [, host] = /^\.busybox\.e2b-\d+-[0-9a-z]+-([0-9a-f]{8})-[0-9a-f]{8}\.tmp$/.exec(mine) ?? []
  assert.ok(host, mine)
  return `.busybox.e2b-${pid}-${start}-${host}-0123abcd.tmp`
}

describe('temp files', () => {
  it('have short names whatever the length of the final name', () => {
    const name = path.basename(tempPathFor(path.join('/nonexistent-dir', 'x'.repeat(250))))
    assert.ok(Buffer.byteLength(name) <= 80, name)
    assert.ok(isTempName(name), name)
    assert.ok(!isTempName('.busybox.1234.abcdef012345.tmp'))
  })

  it('left by a process that is gone are swept; those of live processes and other names are not', async () => {
    const dir = await tempDir('sweep')
    const exited = spawnSync(process.execPath, ['-e', ''])
    assert.equal(exited.status, 0)
    const dead = nameOwnedBy(exited.pid!, '0')
    const ownStart = /\.e2b-\d+-([0-9a-z]+)-/.exec(path.basename(tempPathFor(path.join('/nonexistent-dir', 'probe'))))![1]!
    const live = nameOwnedBy(process.pid, ownStart)
    // Our pid, but an earlier start time: a process that had this pid before us.
    const reused = nameOwnedBy(process.pid, ownStart === '1' ? '2' : '1')
    const foreignHost = `.busybox.e2b-${exited.pid}-0-00000000-0123abcd.tmp`
    const others = ['.busybox.1234.abcdef012345.tmp', 'busybox', `${dead}.keep`]
    for (const name of [dead, live, reused, foreignHost, ...others]) await writeFile(path.join(dir, name), 'x')
    assert.equal(sweepStaleTemps(dir), 2)
    // Once per directory per process.
    assert.equal(sweepStaleTemps(dir), 0)
    assert.deepEqual((await readdir(dir)).sort(), [live, foreignHost, ...others].sort())
  })
})
