import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {describe, it} from 'node:test'
import {promisify} from 'node:util'

import {PROJECT_ROOT} from '../support/cli.js'

const run = promisify(execFile)

/** The young generation's size after churning through short-lived objects, in a fresh process. */
async function newSpaceAfterChurn(keepSmall: boolean): Promise<number> {
  const script = `
    import v8 from 'node:v8'
    import {keepYoungGenerationSmall} from './src/core/heap.ts'
    if (${keepSmall}) keepYoungGenerationSmall()
    let live = []
    for (let i = 0; i < 2000000; i++) {
      live.push({i, name: 'object ' + i})
      if (live.length > 1000) live = []
    }
    console.log(v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size)
  `
  const {stdout} = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {cwd: PROJECT_ROOT})
  return Number(stdout.trim())
}

describe('keepYoungGenerationSmall', () => {
  it('stops the young generation growing under allocation churn, which it otherwise does', async () => {
    const [kept, grown] = await Promise.all([newSpaceAfterChurn(true), newSpaceAfterChurn(false)])
    assert.ok(kept <= 4 * 1024 * 1024, `young generation stayed small: ${kept} bytes`)
    assert.ok(grown > kept, `without it the young generation grows: ${grown} > ${kept} bytes`)
  })
})
