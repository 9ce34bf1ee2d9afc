/**
 * Issue 8, item 12: two uploads of different content racing for the same S3
 * key. versitygw answers an If-None-Match put with 412 before reading the
 * body and resets the connection; the loser used to report that reset as
 * "Premature close" (exit 1) in about one race of five. It must always be a
 * conflict (exit 5), with the winner's binary and sidecar left as they were.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {copyFile, mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {parseLocation} from '../../src/core/location.js'
import {openStore} from '../../src/stores/open-store.js'
import type {Store} from '../../src/stores/store.js'
import {type CliResult, startCli} from '../support/cli.js'
import {type S3Server, s3Server, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxFixture} from '../support/fixtures.js'
import {listFiles, removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex')
const BINARY = `busybox/${V}/amd64/busybox`

let s3: S3Server
/** Two build directories holding different, valid amd64 busyboxes (the second with bytes appended). */
const builds: Record<'a' | 'b', {dir: string; body: Buffer}> = {} as never
const stores: Store[] = []

before(async () => {
  s3 = await s3Server()
  Object.assign(process.env, s3.env)
  for (const name of ['a', 'b'] as const) {
    const dir = await tempDir(`race-${name}`)
    const file = path.join(dir, V, 'amd64', 'busybox')
    await mkdir(path.dirname(file), {recursive: true})
    await copyFile(busyboxFixture('amd64'), file)
    if (name === 'b') await writeFile(file, randomBytes(64), {flag: 'a'})
    builds[name] = {body: await readFile(file), dir}
  }
})

after(async () => {
  await Promise.allSettled(stores.splice(0).map((store) => store.close?.()))
  await removeTempDirs()
})

function upload(build: 'a' | 'b', bucket: string, tmp: string, extraEnv: Record<string, string> = {}): ReturnType<typeof startCli> {
  return startCli(['upload', '--version', V, '--arch', 'amd64', '--from', builds[build].dir, '--to', `s3://${bucket}`], {env: {...s3.env, TMPDIR: tmp, ...extraEnv}, timeoutMs: 60_000})
}

async function freshBucket(): Promise<{bucket: string; store: Store}> {
  const bucket = uniqueBucket('race')
  await s3.createBucket(bucket)
  const store = await openStore(parseLocation(`s3://${bucket}`))
  stores.push(store)
  return {bucket, store}
}

async function content(store: Store, key: string): Promise<Buffer | undefined> {
  if (!(await store.stat(key))) return undefined
  const chunks: Buffer[] = []
  for await (const chunk of (await store.read(key)).body as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** The bucket holds exactly `winner`'s binary and its sidecar: nothing of the loser's. */
async function assertHolds(store: Store, winner: 'a' | 'b', context: string): Promise<void> {
  const binary = await content(store, BINARY)
  assert.ok(binary?.equals(builds[winner].body), `${context}: the binary is the winner's`)
  assert.equal(String(await content(store, `${BINARY}.sha256`)), `${sha(builds[winner].body)}  busybox\n`, `${context}: the sidecar is the winner's`)
}

function isConflict(result: CliResult): boolean {
  // Whichever step the loser lost at: its plan (the winner's binary or sidecar already there), its put, or its last look.
  return result.code === 5 && /^e2b-artifacts: error: .*(already exists|already holds different content|says [0-9a-f]{64}, not [0-9a-f]{64}|concurrent upload|someone else)/m.test(result.stderr)
}

describe('racing uploads to S3 (versitygw)', () => {
  it('the loser of a conditional put answered 412 before its body is sent exits 5, and writes nothing', async () => {
    const {bucket, store} = await freshBucket()
    const marker = path.join(await tempDir('race-marker'), 'paused')
    // The loser stops right after finding the key absent, just before its put: the test-only pause point.
    const loser = upload('b', bucket, await tempDir('race-tmp'), {E2B_ARTIFACTS_TEST_PAUSE_AT: 's3:before-put', E2B_ARTIFACTS_TEST_PAUSE_FILE: marker})
    for (let waited = 0; !existsSync(marker); waited += 20) {
      assert.ok(waited < 30_000, 'the loser reached its put')
      await sleep(20)
    }
    const winner = await upload('a', bucket, await tempDir('race-tmp')).done
    assert.equal(winner.code, 0, winner.stderr)
    await rm(marker)
    const lost = await loser.done
    assert.ok(isConflict(lost), `the loser exits 5 with a conflict line, not ${lost.code}:\n${lost.stderr}`)
    await assertHolds(store, 'a', 'after the race')
  })

  it('ten rounds of two concurrent uploads: always one 0 and one 5, never "Premature close", and the winner intact', async () => {
    const outcomes: string[] = []
    for (let round = 1; round <= 10; round++) {
      const {bucket, store} = await freshBucket()
      const tmp = {a: await tempDir('race-tmp'), b: await tempDir('race-tmp')}
      const [a, b] = await Promise.all([upload('a', bucket, tmp.a).done, upload('b', bucket, tmp.b).done])
      outcomes.push(`${a.code}/${b.code}`)
      const detail = `round ${round}: a exited ${a.code}, b exited ${b.code}\n--- a:\n${a.stderr}--- b:\n${b.stderr}`
      assert.ok(!/premature close/i.test(a.stderr + b.stderr), detail)
      assert.deepEqual([a.code, b.code].sort(), [0, 5], detail)
      const [won, lost] = a.code === 0 ? (['a', b] as const) : (['b', a] as const)
      assert.ok(isConflict(lost), detail)
      await assertHolds(store, won, detail)
      assert.deepEqual([...(await listFiles(tmp.a)), ...(await listFiles(tmp.b))], [], 'no staged file is left')
    }
    assert.equal(outcomes.length, 10)
  })
})
