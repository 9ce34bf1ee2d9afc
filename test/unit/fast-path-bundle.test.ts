import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {closeSync, openSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, describe, it} from 'node:test'

import {PROJECT_ROOT} from '../support/cli.js'
import {FIXTURE_VERSION, busyboxBytes} from '../support/fixtures.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const HEAVY = ['undici', '@google-cloud/storage', '@aws-sdk/client-s3', '@azure/storage-blob', '@azure/identity', 'ora', 'execa', '@oclif/core']
const BUNDLE = path.join(PROJECT_ROOT, 'dist', 'fast-path.bundle.cjs')
const UP_TO_DATE_BUNDLE = path.join(PROJECT_ROOT, 'dist', 'up-to-date.bundle.cjs')

/** The modules esbuild put in a bundle, from the comment it writes above each one's code. */
async function modulesIn(bundle: string): Promise<Set<string>> {
  return new Set([...(await readFile(bundle, 'utf8')).matchAll(/^\/\/ (dist\/\S+\.js)$/gm)].map((match) => match[1]!))
}

after(removeTempDirs)

describe('the bundles that bin/run.js loads (built by npm run build)', () => {
  it('are what bin/run.js, a CommonJS file, loads: the up-to-date bundle first, then the fast path', async () => {
    const runner = await readFile(path.join(PROJECT_ROOT, 'bin', 'run.js'), 'utf8')
    assert.match(runner, /const dist = path\.join\(__dirname, '\.\.', 'dist'\)/)
    const upToDate = runner.search(/const upToDateBundle = path\.join\(dist, 'up-to-date\.bundle\.cjs'\)\n\s*const handoff = loadBundle\(upToDateBundle\)\.tryUpToDate\(argv\)/)
    const fastPath = runner.search(/loadBundle\(path\.join\(dist, 'fast-path\.bundle\.cjs'\)\)\.tryFastPath\(argv, handoff\)/)
    assert.ok(upToDate > 0 && fastPath > upToDate, 'bin/run.js loads the up-to-date bundle, then the fast path with its handoff')
    assert.deepEqual(JSON.parse(await readFile(path.join(PROJECT_ROOT, 'bin', 'package.json'), 'utf8')), {type: 'commonjs'})
  })

  it('hold the up-to-date fetch in the small bundle, without the download machinery', async () => {
    const upToDate = await modulesIn(UP_TO_DATE_BUNDLE)
    const fastPath = await modulesIn(BUNDLE)
    for (const module of ['dist/cli/up-to-date-path.js', 'dist/services/fetch/check.js', 'dist/services/fetch/up-to-date.js', 'dist/services/fetch/lock-pin.js']) {
      assert.ok(upToDate.has(module), `${module} is in the up-to-date bundle`)
    }
    const heavy = [...upToDate].filter((module) => /^dist\/(stores|net)\/|\/(download|fetch|install)\.js$/.test(module))
    assert.deepEqual(heavy, [], 'no store, network or download module in the up-to-date bundle')
    assert.ok(fastPath.has('dist/services/fetch/download.js'), 'the fast path bundle holds the download')
    const sizes = [(await stat(UP_TO_DATE_BUNDLE)).size, (await stat(BUNDLE)).size]
    assert.ok(sizes[0]! * 3 < sizes[1]!, `the up-to-date bundle (${sizes[0]} bytes) is under a third of the fast path's (${sizes[1]})`)
  })

  for (const file of [UP_TO_DATE_BUNDLE, BUNDLE]) {
    it(`is CommonJS that requires only Node built-ins, and reaches packages only through __import(): ${path.basename(file)}`, async () => {
      const bundle = await readFile(file, 'utf8')
      const required = new Set([...bundle.matchAll(/\brequire\("([^"]+)"\)/g)].map((match) => match[1]!))
      assert.ok(required.size > 0, 'the bundle has requires to check')
      assert.deepEqual([...required].filter((specifier) => !specifier.startsWith('node:')), [])
      assert.doesNotMatch(bundle, /^\/\/ node_modules\//m, 'no package is bundled in')
      // import() has no loader in code compiled by vm.Script: bin/run.js passes __import instead.
      assert.doesNotMatch(bundle, /\bimport\s*\(|\bimport\.meta\b/)
      const imported = new Set([...bundle.matchAll(/\b__import\("([^"]+)"\)/g)].map((match) => match[1]!))
      assert.ok(imported.has('ora'), 'ora, an ES module, is imported lazily')
      for (const name of HEAVY) assert.ok(!required.has(name), `${name} must not be required`)
    })
  }

  /**
   * Runs an up-to-date fetch of the real fixture through bin/run.js with a
   * probe preloaded, in `cwd` (where a lock file may be found), and returns
   * what it loaded and what it printed with --json.
   */
  async function probeUpToDate(label: string, lock?: (sha256: string, size: number) => string): Promise<{builtins: string[]; files: string[]; report: {verifiedBy: string[]; status: string}}> {
    const dir = await tempDir(label)
    const file = path.join(dir, 'busybox')
    // Up to date means the requested version and arch too: the real fixture, asked for as what it is.
    const content = await busyboxBytes('amd64')
    const sha256 = createHash('sha256').update(content).digest('hex')
    await mkdir(dir, {recursive: true})
    await writeFile(file, content)
    await writeFile(`${file}.sha256`, `${sha256}  busybox\n`)
    if (lock) await writeFile(path.join(dir, 'e2b-artifacts.lock'), lock(sha256, content.length))
    // Preloaded: prints, at exit, the public built-ins and the files loaded after it.
    const probe = path.join(dir, 'probe.cjs')
    await writeFile(
      probe,
      `const before = new Set(process.moduleLoadList)
       process.on('exit', () => {
         const builtins = process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ') && !m.includes('internal/')).map((m) => m.slice(13))
         require('node:fs').writeFileSync(${JSON.stringify(path.join(dir, 'loaded.json'))}, JSON.stringify({builtins, files: Object.keys(require.cache).filter((f) => f !== __filename)}))
       })`,
    )
    // Files, not pipes: a pipe on stdout or stderr loads node:net by itself.
    const stdout = openSync(path.join(dir, 'stdout.json'), 'w')
    try {
      const run = spawnSync(process.execPath, ['--require', probe, path.join(PROJECT_ROOT, 'bin', 'run.js'), 'fetch', '--out', file, '--version', FIXTURE_VERSION, '--arch', 'amd64', '--from', 'http://127.0.0.1:9/x', '--json'], {
        cwd: dir,
        encoding: 'utf8',
        env: {HOME: dir, PATH: process.env.PATH},
        stdio: ['ignore', stdout, 'ignore'],
      })
      assert.equal(run.status, 0)
    } finally {
      closeSync(stdout)
    }
    const loaded = JSON.parse(await readFile(path.join(dir, 'loaded.json'), 'utf8')) as {builtins: string[]; files: string[]}
    return {...loaded, report: JSON.parse(await readFile(path.join(dir, 'stdout.json'), 'utf8')) as {verifiedBy: string[]; status: string}}
  }

  function assertNothingHeavy(loaded: {builtins: string[]; files: string[]}): void {
    assert.deepEqual(
      loaded.files.map((f) => path.relative(PROJECT_ROOT, f)),
      [path.join('bin', 'run.js')],
      'no package and no file but the entry goes through require (the bundle is compiled by vm.Script)',
    )
    for (const name of ['fs/promises', 'v8', 'net', 'http', 'http2', 'assert', 'tls', 'zlib', 'worker_threads', 'child_process']) {
      assert.ok(!loaded.builtins.includes(name), `node:${name} loaded by an up-to-date fetch: ${loaded.builtins.join(' ')}`)
    }
  }

  it('loads no package, and none of the built-ins that only a download needs, for an up-to-date fetch', async () => {
    const loaded = await probeUpToDate('fast-path-bundle')
    assert.deepEqual([loaded.report.status, loaded.report.verifiedBy], ['up-to-date', ['sidecar']])
    assertNothingHeavy(loaded)
  })

  it('loads no more when a lock file in the working directory pins the digest', async () => {
    const loaded = await probeUpToDate('fast-path-bundle-lock', (sha256, size) =>
      JSON.stringify({
        entries: [{arch: 'amd64', artifact: 'busybox', file: 'busybox', lockedAt: '2026-04-01T12:00:00.000Z', sha256, size, source: 'github:e2b-dev/fc-busybox@v1.35.0', version: FIXTURE_VERSION}],
        lockfileVersion: 1,
      }),
    )
    assert.deepEqual([loaded.report.status, loaded.report.verifiedBy], ['up-to-date', ['sidecar', 'lock']], 'the lock was read, and pinned the digest')
    assertNothingHeavy(loaded)
  })
})
