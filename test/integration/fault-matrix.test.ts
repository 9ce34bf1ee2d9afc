/**
 * The fault matrix (issue 8): `upload` and `copy-public-builds` are killed
 * with SIGKILL at named points, for every kind of destination, then run
 * again. After the re-run:
 *   - it exits 0;
 *   - every binary that exists has a sidecar that matches it (and the source);
 *   - `verify --at --deep` exits 0 for every destination;
 *   - nothing was written outside the destination;
 *   - no temp file is left (TMPDIR, and any destination directory).
 *
 * The kill points are hit deterministically: a stalled download on the
 * loopback server (staging), or the test-only pause points of
 * src/core/test-pause.ts (E2B_ARTIFACTS_TEST_PAUSE_AT), where the process
 * writes a marker file and waits to be killed.
 *
 * The README's "Reliability" section reports this matrix; keep its counts in
 * step with CASES.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readdir, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {parseLocation} from '../../src/core/location.js'
import {openStore} from '../../src/stores/open-store.js'
import {type Store, isRefused} from '../../src/stores/store.js'
import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {type CliResult, runCli, startCli} from '../support/cli.js'
import {type GcsServer, type S3Server, gcsServer, s3Server, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const sidecarOf = (body: Buffer, name: string): Buffer => Buffer.from(`${sha(body)}  ${name}\n`)
const OWNER = 'e2b-dev'
const REPO = 'fc-busybox'
const TAG = `v${V}`

type Kind = 'file' | 'gcs' | 's3'
/** Where the upload is killed: mid-download of a release asset, or between a binary's publish and its sidecar's. */
type UploadPoint = 'staging' | 'upload:after-binary'
/** Where the copy is killed: after an object is copied (server side or streamed), before its confirmation and sidecar; or mid-stream. */
type CopyPoint = 'copy:after-object' | 'copy:mid-stream'

interface UploadCase {
  readonly command: 'upload'
  readonly to: Kind
  readonly point: UploadPoint
}

interface CopyCase {
  readonly command: 'copy-public-builds'
  readonly from: Kind
  readonly to: Kind
  readonly point: CopyPoint
}

type Case = UploadCase | CopyCase

export const CASES: readonly Case[] = [
  ...(['file', 'gcs', 's3'] as const).flatMap((to) => (['staging', 'upload:after-binary'] as const).map((point): UploadCase => ({command: 'upload', point, to}))),
  // Same provider: server-side copies (GCS rewrite, S3 CopyObject, a local copy).
  {command: 'copy-public-builds', from: 'gcs', point: 'copy:after-object', to: 'gcs'},
  {command: 'copy-public-builds', from: 's3', point: 'copy:after-object', to: 's3'},
  {command: 'copy-public-builds', from: 'file', point: 'copy:after-object', to: 'file'},
  // Across providers: streamed through this host.
  {command: 'copy-public-builds', from: 'gcs', point: 'copy:after-object', to: 's3'},
  {command: 'copy-public-builds', from: 'gcs', point: 'copy:mid-stream', to: 'file'},
  {command: 'copy-public-builds', from: 'gcs', point: 'copy:mid-stream', to: 's3'},
  {command: 'copy-public-builds', from: 's3', point: 'copy:mid-stream', to: 'gcs'},
  {command: 'copy-public-builds', from: 'file', point: 'copy:mid-stream', to: 's3'},
]

let server: ArtifactServer
let gcs: GcsServer
let s3: S3Server
let amd64: Buffer
let arm64: Buffer
/** The public layout copy-public-builds reads: keys under their artifact prefix. */
const PUBLIC = new Map<string, Buffer>()
const stores: Store[] = []

before(async () => {
  ;[server, gcs, s3, amd64, arm64] = await Promise.all([startArtifactServer(), gcsServer(), s3Server(), busyboxBytes('amd64'), busyboxBytes('arm64')])
  Object.assign(process.env, gcs.env, s3.env)
  const kernel = randomBytes(3_000_000)
  const legacy = randomBytes(1_500_000)
  for (const [key, body, sidecar] of [
    [`busybox/${V}/amd64/busybox`, amd64, true],
    [`busybox/${V}/arm64/busybox`, arm64, true],
    ['kernels/6.1.158/amd64/vmlinux.bin', kernel, true],
    ['kernels/6.1.102/vmlinux.bin', legacy, false],
  ] as const) {
    PUBLIC.set(key, body)
    if (sidecar) PUBLIC.set(`${key}.sha256`, sidecarOf(body, path.posix.basename(key)))
  }
})

after(async () => {
  await server.close()
  await Promise.allSettled(stores.splice(0).map((store) => store.close?.()))
  await removeTempDirs()
})

/** A fresh, empty place of this kind, named so that its layout is the env one when `suffix` is given. */
async function place(kind: Kind, suffix = ''): Promise<{url: string; parent?: string; dir?: string}> {
  if (kind === 'file') {
    const parent = await tempDir('matrix-parent')
    const dir = path.join(parent, `dest${suffix ? `-${suffix}` : ''}`)
    return {dir, parent, url: `file://${dir}`}
  }
  const bucket = `${uniqueBucket('matrix')}${suffix ? `-${suffix}` : ''}`
  await (kind === 'gcs' ? gcs : s3).createBucket(bucket)
  return {url: `${kind === 'gcs' ? 'gs' : 's3'}://${bucket}`}
}

async function storeAt(url: string): Promise<Store> {
  const store = await openStore(parseLocation(url))
  stores.push(store)
  return store
}

async function readAll(store: Store, key: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of (await store.read(key)).body as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/** Every listed name at a location: objects and anything refused (a link, an odd name). */
async function namesAt(url: string): Promise<string[]> {
  const store = await storeAt(url)
  const names: string[] = []
  for await (const entry of store.list('')) names.push(isRefused(entry) ? `${entry.key} (refused: ${entry.refused})` : entry.key)
  return names.sort()
}

/** Temp files (dot-names ending in .tmp) anywhere below `dir`. */
async function tempFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const entries = await readdir(dir, {recursive: true, withFileTypes: true})
  return entries.filter((entry) => entry.name.startsWith('.') && entry.name.endsWith('.tmp')).map((entry) => path.join(entry.parentPath, entry.name))
}

const env = (extra: Record<string, string> = {}): Record<string, string> => ({...gcs.env, ...s3.env, ...extra})

/** Runs the command until it reaches `point` (or, for 'staging', until a stalled download has begun), then SIGKILLs it. */
async function killAt(args: string[], point: string, extraEnv: Record<string, string>, reached?: () => Promise<boolean>): Promise<CliResult> {
  const marker = path.join(await tempDir('matrix-marker'), 'paused')
  const pause: Record<string, string> = reached ? {} : {E2B_ARTIFACTS_TEST_PAUSE_AT: point, E2B_ARTIFACTS_TEST_PAUSE_FILE: marker}
  const child = startCli(args, {env: env({E2B_ARTIFACTS_TIMEOUT_MS: '30000', ...extraEnv, ...pause}), timeoutMs: 120_000})
  let exited: CliResult | undefined
  void child.done.then((result) => (exited = result))
  for (let waited = 0; !(reached ? await reached() : existsSync(marker)); waited += 20) {
    if (exited) assert.fail(`the process ended (exit ${exited.code}) before reaching ${point}:\n${exited.stderr}`)
    assert.ok(waited < 60_000, `reached ${point}`)
    await sleep(20)
  }
  child.kill('SIGKILL')
  const killed = await child.done
  assert.equal(killed.signal, 'SIGKILL', `killed at ${point}`)
  return killed
}

/** Every binary at a destination has a sidecar matching it, and holds the source's bytes. */
async function assertPairs(url: string, expected: ReadonlyMap<string, Buffer>): Promise<void> {
  const store = await storeAt(url)
  const names = await namesAt(url)
  assert.deepEqual(names, [...expected.keys()].sort(), `${url} holds exactly the expected objects`)
  for (const [key, body] of expected) {
    if (key.endsWith('.sha256')) continue
    const content = await readAll(store, key)
    assert.ok(content.equals(body), `${url}/${key} holds the source's bytes`)
    if (expected.has(`${key}.sha256`)) assert.equal(String(await readAll(store, `${key}.sha256`)), `${sha(content)}  ${path.posix.basename(key)}\n`, `${url}/${key}.sha256 matches it`)
  }
}

/** Nothing but the destination directory below its parent. */
async function assertNothingOutside(destination: {parent?: string; dir?: string}): Promise<void> {
  if (!destination.parent) return
  assert.deepEqual(await readdir(destination.parent), [path.basename(destination.dir!)], `nothing next to ${destination.dir}`)
}

async function runUploadCase(testCase: UploadCase): Promise<void> {
  server.clear()
  server.addRelease({
    assets: [
      {body: amd64, name: `busybox_${TAG}_amd64`},
      {body: arm64, name: `busybox_${TAG}_arm64`},
      {body: `${sha(amd64)}  busybox_${TAG}_amd64\n${sha(arm64)}  busybox_${TAG}_arm64\n`, name: 'SHA256SUMS'},
    ],
    owner: OWNER,
    repo: REPO,
    tag: TAG,
  })
  const tmp = await tempDir('matrix-tmp')
  const destination = await place(testCase.to)
  const githubEnv = {GITHUB_API_URL: `${server.url}/api`, GITHUB_SERVER_URL: server.url, TMPDIR: tmp}
  const args = ['upload', '--version', V, '--to', destination.url]
  let reached: (() => Promise<boolean>) | undefined
  if (testCase.point === 'staging') {
    server.fault(server.assetPath(OWNER, REPO, TAG, `busybox_${TAG}_amd64`), [{afterBytes: 500_000, kind: 'stall'}])
    // Killed once the stalled download has written its first bytes to the staged temp file.
    reached = async () => {
      for (const file of await tempFiles(tmp)) if ((await stat(file).catch(() => undefined))?.size === 500_000) return true
      return false
    }
  }
  await killAt(args, testCase.point, githubEnv, reached)
  server.clear()
  server.addRelease({
    assets: [
      {body: amd64, name: `busybox_${TAG}_amd64`},
      {body: arm64, name: `busybox_${TAG}_arm64`},
      {body: `${sha(amd64)}  busybox_${TAG}_amd64\n${sha(arm64)}  busybox_${TAG}_arm64\n`, name: 'SHA256SUMS'},
    ],
    owner: OWNER,
    repo: REPO,
    tag: TAG,
  })
  const again = await runCli(args, {env: env(githubEnv), timeoutMs: 120_000})
  assert.equal(again.code, 0, `the re-run succeeds: ${again.stderr}`)
  const published = new Map([...PUBLIC].filter(([key]) => key.startsWith('busybox/')))
  await assertPairs(destination.url, published)
  const audit = await runCli(['verify', '--at', destination.url, '--deep'], {env: env()})
  assert.equal(audit.code, 0, `verify --at --deep: ${audit.stderr}`)
  await assertNothingOutside(destination)
  assert.deepEqual(await tempFiles(tmp), [], 'no staged temp file is left in TMPDIR after the re-run')
  if (destination.dir) assert.deepEqual(await tempFiles(destination.dir), [], 'no temp file is left in the destination')
}

async function seedSource(kind: Kind): Promise<string> {
  const source = await place(kind)
  if (kind === 'file') {
    for (const [key, body] of PUBLIC) {
      await mkdir(path.dirname(path.join(source.dir!, key)), {recursive: true})
      await writeFile(path.join(source.dir!, key), body)
    }
  } else {
    const store = await storeAt(source.url)
    for (const [key, body] of PUBLIC) await store.write(key, body, {precondition: 'absent', sha256: sha(body), size: body.length})
  }
  return source.url
}

async function runCopyCase(testCase: CopyCase): Promise<void> {
  const from = await seedSource(testCase.from)
  const busybox = await place(testCase.to, 'fc-busybox')
  const kernels = await place(testCase.to, 'fc-kernels')
  const args = ['copy-public-builds', '--from', from, '--to', `busybox=${busybox.url}`, '--to', `kernel=${kernels.url}`]
  await killAt(args, testCase.point, {})
  const again = await runCli(args, {env: env(), timeoutMs: 120_000})
  assert.equal(again.code, 0, `the re-run succeeds: ${again.stderr}`)
  const under = (prefix: string): Map<string, Buffer> => new Map([...PUBLIC].filter(([key]) => key.startsWith(prefix)).map(([key, body]) => [key.slice(prefix.length), body]))
  await assertPairs(busybox.url, under('busybox/'))
  await assertPairs(kernels.url, under('kernels/'))
  for (const [artifact, destination] of [['busybox', busybox], ['kernel', kernels]] as const) {
    const audit = await runCli(['verify', artifact, '--at', destination.url, '--deep'], {env: env()})
    assert.equal(audit.code, 0, `verify ${artifact} --at --deep: ${audit.stderr}`)
    await assertNothingOutside(destination)
    if (destination.dir) assert.deepEqual(await tempFiles(destination.dir), [], 'no temp file is left in the destination after the re-run')
  }
}

describe('fault matrix: kill -9 at each point, run again, and the end state is whole', () => {
  for (const testCase of CASES) {
    const name =
      testCase.command === 'upload' ? `upload to ${testCase.to}, killed at ${testCase.point}` : `copy-public-builds ${testCase.from} to ${testCase.to}, killed at ${testCase.point}`
    it(name, async () => {
      await (testCase.command === 'upload' ? runUploadCase(testCase) : runCopyCase(testCase))
    })
  }
})
