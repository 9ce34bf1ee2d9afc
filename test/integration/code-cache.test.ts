import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdir, readFile, readdir, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {type CliResult, runCli} from '../support/cli.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

// The V8 code cache that bin/run.js keeps for the bundles it runs. Its debug
// lines (NODE_DEBUG=e2b-artifacts) say what happened to each cache file.

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const OBJECT = `/public-builds/busybox/${V}/amd64/busybox`
const MAGIC_AND_DIGEST = 8 + 1 + 32

let server: ArtifactServer
let amd64: Buffer
let dir: string
let cacheHome: string

before(async () => {
  server = await startArtifactServer()
  amd64 = await busyboxBytes('amd64')
  server.put(OBJECT, amd64)
  server.put(`${OBJECT}.sha256`, `${sha(amd64)}  busybox\n`)
})

after(async () => {
  await server.close()
  await removeTempDirs()
})

beforeEach(async () => {
  dir = await tempDir('code-cache')
  cacheHome = path.join(dir, 'xdg-cache')
})

const cacheDir = (): string => path.join(cacheHome, 'e2b-artifacts')
const out = (): string => path.join(dir, 'busybox')

/** A fetch of busybox amd64 to `out()`, `--json`, with the cache's debug lines on stderr. */
function fetch(env: Record<string, string | undefined> = {}, args: string[] = []): Promise<CliResult> {
  const from = `${server.url}/public-builds`
  return runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', from, '--out', out(), '--json', ...args], {
    cwd: dir,
    env: {NODE_DEBUG: 'e2b-artifacts', XDG_CACHE_HOME: cacheHome, ...env},
  })
}

/** What the run said about the cache of `bundle` (up-to-date, fast-path or undici-lite): absent, accepted, written, ... in order. */
function events(result: CliResult, bundle: string): string[] {
  const pattern = new RegExp(`^E2B-ARTIFACTS \\d+: code cache \\S*/${bundle}\\.bundle-[^ ]*: (\\w+)`, 'gm')
  return [...result.stderr.matchAll(pattern)].map((match) => match[1]!)
}

/** The run's output without the debug lines; the parts of --json that differ between runs of one kind never do. */
function output(result: CliResult): {code: number | null; stdout: string; stderr: string} {
  return {code: result.code, stderr: result.stderr.replace(/^E2B-ARTIFACTS .*\n/gm, ''), stdout: result.stdout}
}

async function cacheFiles(bundle: string): Promise<string[]> {
  const names = await readdir(cacheDir()).catch(() => [] as string[])
  return names.filter((name) => name.startsWith(`${bundle}.bundle-`)).map((name) => path.join(cacheDir(), name))
}

async function onlyCacheFile(bundle: string): Promise<string> {
  const files = await cacheFiles(bundle)
  assert.equal(files.length, 1, `one ${bundle} cache file: ${files.join(', ')}`)
  return files[0]!
}

/** A cold fetch, then an up-to-date one, which leaves a full cache of the up-to-date bundle. */
async function warm(): Promise<CliResult> {
  const cold = await fetch()
  assert.equal(cold.code, 0, cold.stderr)
  const noop = await fetch()
  assert.equal(noop.code, 0, noop.stderr)
  return noop
}

describe('the V8 code cache of the bundles', () => {
  it('is written by the first fetch and used by the next, which writes nothing; an up-to-date fetch compiles only the up-to-date bundle', async () => {
    const cold = await fetch()
    assert.equal(cold.code, 0, cold.stderr)
    // The cold run changes a V8 flag (--liftoff-only) when it loads undici: it
    // writes the caches of both bundles it compiled before then just before
    // that, and undici's own (keyed by that flag) at exit.
    assert.deepEqual(events(cold, 'up-to-date'), ['absent', 'written'])
    assert.deepEqual(events(cold, 'fast-path'), ['absent', 'written'])
    assert.deepEqual(events(cold, 'undici-lite'), ['absent', 'written'])
    const upToDateCache = await onlyCacheFile('up-to-date')
    const before = await stat(upToDateCache)
    assert.ok(before.size > MAGIC_AND_DIGEST)
    const written = await readFile(upToDateCache)
    assert.deepEqual([written.subarray(0, 8).toString(), written[8]], ['E2BV8C2\n', 0], 'written by a partial run of the bundle')
    assert.ok((await stat(await onlyCacheFile('fast-path'))).size > before.size, 'the up-to-date bundle is the smaller one')

    // The cold run compiled only the start of the up-to-date bundle: the first
    // up-to-date fetch, which runs all of it, writes its cache again, once.
    const first = await fetch()
    assert.equal(first.code, 0, first.stderr)
    assert.deepEqual(events(first, 'up-to-date'), ['accepted', 'partial', 'written'])
    const full = await readFile(upToDateCache)
    assert.equal(full[8], 1, 'written by a full run')
    assert.ok(full.length > written.length, `the full cache (${full.length} bytes) holds more code than the partial one (${written.length})`)
    const rewritten = await stat(upToDateCache)
    assert.notEqual(rewritten.ino, before.ino, 'replaced by a rename')

    for (let run = 0; run < 2; run++) {
      const noop = await fetch()
      assert.equal(noop.code, 0, noop.stderr)
      assert.equal(JSON.parse(noop.stdout).status, 'up-to-date')
      assert.deepEqual(events(noop, 'up-to-date'), ['accepted'], 'cachedDataRejected is false')
      assert.deepEqual(events(noop, 'fast-path'), [], 'an up-to-date fetch never loads the fast path bundle')
      assert.deepEqual(events(noop, 'undici-lite'), [], 'an up-to-date fetch never loads undici')
    }
    const afterRuns = await stat(upToDateCache)
    assert.equal(afterRuns.mtimeMs, rewritten.mtimeMs, 'a full cache that was accepted is not rewritten')
    assert.equal(afterRuns.ino, rewritten.ino)
    await writeFile(out(), 'stale')
    const again = await fetch()
    assert.equal(JSON.parse(again.stdout).status, 'fetched')
    assert.deepEqual(events(again, 'up-to-date'), ['accepted'], 'a cold fetch keeps the full cache')
    assert.deepEqual(await readFile(upToDateCache), full)
  })

  it('survives a run that set --liftoff-only: that run writes no cache of the bundles, and the next run still accepts them', async () => {
    const first = await fetch()
    assert.equal(first.code, 0, first.stderr)
    const caches = [await onlyCacheFile('up-to-date'), await onlyCacheFile('fast-path')]
    const written = await Promise.all(caches.map((file) => readFile(file)))
    const before = await Promise.all(caches.map((file) => stat(file)))

    await writeFile(out(), 'stale')
    const cold = await fetch() // not up to date: downloads, loading undici and setting --liftoff-only
    assert.equal(cold.code, 0, cold.stderr)
    assert.equal(JSON.parse(cold.stdout).status, 'fetched')
    assert.deepEqual(events(cold, 'up-to-date'), ['accepted'])
    assert.deepEqual(events(cold, 'fast-path'), ['accepted'])
    assert.deepEqual(events(cold, 'undici-lite'), ['accepted'], 'undici cache, written under --liftoff-only by the first run, fits this one')
    assert.deepEqual(await Promise.all(caches.map((file) => readFile(file))), written)
    assert.deepEqual(
      (await Promise.all(caches.map((file) => stat(file)))).map((info) => info.mtimeMs),
      before.map((info) => info.mtimeMs),
    )

    const next = await fetch()
    assert.equal(next.code, 0, next.stderr)
    assert.deepEqual(events(next, 'up-to-date'), ['accepted', 'partial', 'written'], 'the first up-to-date run, as after any cold one')
  })

  it('is written by a cold fetch before it sets --liftoff-only, so that later runs accept it', async () => {
    const cold = await fetch()
    assert.equal(cold.code, 0, cold.stderr)
    assert.deepEqual(events(cold, 'up-to-date'), ['absent', 'written'])
    assert.deepEqual(events(cold, 'fast-path'), ['absent', 'written'])
    const noop = await fetch()
    assert.deepEqual(events(noop, 'up-to-date'), ['accepted', 'partial', 'written'])
    await writeFile(out(), 'stale')
    const again = await fetch()
    assert.equal(JSON.parse(again.stdout).status, 'fetched')
    assert.deepEqual(events(again, 'fast-path'), ['accepted'])
  })

  for (const [name, corrupt] of [
    ['a coverage byte that no run writes', (data: Buffer) => Buffer.from(data).fill(7, 8, 9)],
    ['a full cache marked partial, under its old digest', (data: Buffer) => Buffer.from(data).fill(0, 8, 9)],
    ['a flipped byte in the data', (data: Buffer) => Buffer.from(data).fill(data[MAGIC_AND_DIGEST + 100]! ^ 0xff, MAGIC_AND_DIGEST + 100, MAGIC_AND_DIGEST + 101)],
    ['a truncated file', (data: Buffer) => data.subarray(0, Math.floor(data.length / 2))],
    ['a header alone', (data: Buffer) => data.subarray(0, MAGIC_AND_DIGEST)],
    ['an empty file', () => Buffer.alloc(0)],
    ['garbage', (data: Buffer) => Buffer.alloc(data.length, 0x5a)],
  ] as const) {
    it(`ignores a corrupt cache file (${name}) with identical output, and replaces it`, async () => {
      const reference = await warm()
      const file = await onlyCacheFile('up-to-date')
      await writeFile(file, corrupt(await readFile(file)))

      const run = await fetch()
      assert.deepEqual(output(run), output(reference))
      assert.deepEqual(events(run, 'up-to-date'), ['corrupt', 'absent', 'written'])
      const next = await fetch()
      assert.deepEqual(output(next), output(reference))
      assert.deepEqual(events(next, 'up-to-date'), ['accepted'])
    })
  }

  it('ignores a cache that V8 rejects (made under other V8 flags) with identical output, and replaces it', async () => {
    const reference = await warm()
    const file = await onlyCacheFile('up-to-date')
    // A run with a V8 flag on the command line gets the same file name, but V8 rejects the
    // existing cache (another flag hash), so that run writes its own, which the next plain run rejects.
    const flagged = await fetch({NODE_OPTIONS: '--max-old-space-size=200'})
    assert.equal(flagged.code, 0, flagged.stderr)
    assert.deepEqual(events(flagged, 'up-to-date'), ['rejected', 'written'])
    assert.equal(await onlyCacheFile('up-to-date'), file)

    const run = await fetch()
    assert.deepEqual(output(run), output(reference))
    assert.deepEqual(events(run, 'up-to-date'), ['rejected', 'written'])
    assert.deepEqual(events(await fetch(), 'up-to-date'), ['accepted'])
  })

  it('is harmless when the cache directory cannot be created', async () => {
    const reference = await warm()
    cacheHome = path.join(dir, 'a-file')
    await writeFile(cacheHome, 'not a directory')
    const run = await fetch()
    assert.deepEqual(output(run), output(reference))
    assert.deepEqual(events(run, 'up-to-date'), ['absent', 'not'])
    assert.match(run.stderr, /code cache \S+: not written: ENOTDIR/)
  })

  it('lives in ~/.cache/e2b-artifacts without XDG_CACHE_HOME, and a relative XDG_CACHE_HOME is ignored', async () => {
    const home = path.join(dir, 'home')
    await mkdir(home)
    for (const xdg of [undefined, 'relative/cache']) {
      const run = await fetch({HOME: home, XDG_CACHE_HOME: xdg})
      assert.equal(run.code, 0, run.stderr)
    }
    assert.equal((await readdir(path.join(home, '.cache', 'e2b-artifacts'))).filter((name) => name.startsWith('up-to-date.bundle-')).length, 1)
  })
})
