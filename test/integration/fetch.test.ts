import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {runCli, startCli} from '../support/cli.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {listFiles, removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const OBJECT = `/public-builds/busybox/${V}/amd64/busybox`

let server: ArtifactServer
let amd64: Buffer
let arm64: Buffer
let dir: string
let from: string

function publish(objectPath: string, body: Buffer, sidecar: string | undefined = `${sha(body)}  ${path.basename(objectPath)}\n`): void {
  server.put(objectPath, body)
  if (sidecar === undefined) server.remove(`${objectPath}.sha256`)
  else server.put(`${objectPath}.sha256`, sidecar)
}

/** `fetch` of busybox amd64 into `dir`, with any extra flags. */
function fetch(...extra: string[]): ReturnType<typeof runCli> {
  return runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', from, ...extra], {cwd: dir})
}

const installed = (): string => path.join(dir, '.busybox', V, 'amd64', 'busybox')

async function assertInstalled(expected: Buffer): Promise<void> {
  assert.deepEqual(await readFile(installed()), expected)
  assert.equal(await readFile(`${installed()}.sha256`, 'utf8'), `${sha(expected)}  busybox\n`)
  assert.equal((await stat(installed())).mode & 0o777, 0o755)
  assert.deepEqual(await listFiles(dir), [`.busybox/${V}/amd64/busybox`, `.busybox/${V}/amd64/busybox.sha256`])
}

const binaryGets = (): number => server.requests.filter((r) => r.method === 'GET' && r.path === OBJECT).length

before(async () => {
  server = await startArtifactServer()
  amd64 = await busyboxBytes('amd64')
  arm64 = await busyboxBytes('arm64')
  from = `${server.url}/public-builds`
})

after(async () => {
  await server.close()
  await removeTempDirs()
})

beforeEach(async () => {
  server.clear()
  server.resetLog()
  publish(OBJECT, amd64)
  dir = await tempDir('fetch')
})

describe('fetch: the happy path', () => {
  it('downloads, verifies and installs the binary and its sidecar at the default path', async () => {
    const result = await fetch()
    assert.equal(result.code, 0, result.stderr)
    await assertInstalled(amd64)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, new RegExp(`^fetched busybox ${V}/amd64 to \\.busybox/${V}/amd64/busybox \\(1\\.9 MiB, sha256 ${sha(amd64).slice(0, 12)}…, verified by sidecar\\) from http://127\\.0\\.0\\.1:\\d+/public-builds/busybox/${V}/amd64/busybox\\n$`))
    assert.ok(!result.stderr.includes('\u001B['), 'no control sequences without a TTY')
  })

  it('makes no request at all when the file is up to date, and says so', async () => {
    assert.equal((await fetch()).code, 0)
    server.resetLog()
    const again = await fetch()
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stderr, new RegExp(`^busybox ${V}/amd64 is up to date at \\.busybox/${V}/amd64/busybox`))
    assert.deepEqual(server.requests, [])
    const json = await fetch('--json')
    assert.equal(JSON.parse(json.stdout).status, 'up-to-date')
    assert.equal(json.stderr, '')
    assert.deepEqual(server.requests, [])
  })

  it('rehashes the local file instead of trusting it, and repairs a damaged copy', async () => {
    assert.equal((await fetch()).code, 0)
    const damaged = Buffer.from(amd64)
    damaged.writeUInt8(damaged.readUInt8(1000) ^ 0xff, 1000)
    await writeFile(installed(), damaged)
    server.resetLog()
    const result = await fetch()
    assert.equal(result.code, 0, result.stderr)
    assert.equal(binaryGets(), 1)
    await assertInstalled(amd64)
  })

  it('--force downloads even when up to date', async () => {
    assert.equal((await fetch()).code, 0)
    server.resetLog()
    assert.equal((await fetch('--force')).code, 0)
    assert.equal(binaryGets(), 1)
  })

  it('--json prints one JSON document on stdout and nothing else', async () => {
    const result = await fetch('--json')
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.deepEqual(
      {...report, source: undefined},
      {arch: 'amd64', artifact: 'busybox', path: `.busybox/${V}/amd64/busybox`, sha256: sha(amd64), size: amd64.length, source: undefined, status: 'fetched', verifiedBy: ['sidecar'], version: V},
    )
    assert.equal(result.stderr, '')
  })

  it('--quiet prints nothing on success', async () => {
    const result = await fetch('--quiet')
    assert.equal(result.code, 0)
    assert.equal(result.stderr + result.stdout, '')
  })

  it('honours --out, aliases, E2B_ARTIFACTS_PUBLIC_URL and writes a sidecar named for the output', async () => {
    const result = await runCli(['fetch', '--version', V, '--arch', 'x86_64', '--out', 'bin/bb'], {cwd: dir, env: {E2B_ARTIFACTS_PUBLIC_URL: from}})
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(await readFile(path.join(dir, 'bin/bb')), amd64)
    assert.equal(await readFile(path.join(dir, 'bin/bb.sha256'), 'utf8'), `${sha(amd64)}  bb\n`)
    assert.deepEqual(await listFiles(dir), ['bin/bb', 'bin/bb.sha256'])
  })

  it('reads an env bucket laid out at its root', async () => {
    publish(`/prod-fc-busybox/${V}/amd64/busybox`, amd64)
    const result = await runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', `${server.url}/prod-fc-busybox`, '--out', 'bb'], {cwd: dir})
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(await readFile(path.join(dir, 'bb')), amd64)
  })

  it('fetches from a file:// directory with the public layout', async () => {
    const mirror = await tempDir('mirror')
    await mkdir(path.join(mirror, 'busybox', V, 'arm64'), {recursive: true})
    await writeFile(path.join(mirror, 'busybox', V, 'arm64', 'busybox'), arm64)
    await writeFile(path.join(mirror, 'busybox', V, 'arm64', 'busybox.sha256'), `${sha(arm64)} *busybox\n`)
    const result = await runCli(['fetch', '--version', V, '--arch', 'aarch64', '--from', `file://${mirror}`], {cwd: dir})
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(await readFile(path.join(dir, '.busybox', V, 'arm64', 'busybox')), arm64)
  })

  it('follows a redirect on loopback', async () => {
    server.fault(OBJECT, [{kind: 'redirect', location: `${server.url}/elsewhere/busybox`}])
    server.put('/elsewhere/busybox', amd64)
    const result = await fetch()
    assert.equal(result.code, 0, result.stderr)
    await assertInstalled(amd64)
  })

  it('accepts a matching --sha256 pin and records it', async () => {
    const result = await fetch('--sha256', sha(amd64).toUpperCase(), '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(JSON.parse(result.stdout).verifiedBy, ['sidecar', 'pin'])
  })

  it('uses an optional sidecar when present; without one, installs only with --allow-unverified, and warns', async () => {
    const kernel = Buffer.from('not an ELF: kernels are raw images')
    publish('/public-builds/kernels/6.1.102/amd64/vmlinux.bin', kernel)
    const args = ['fetch', 'kernel', '--version', '6.1.102', '--arch', 'amd64', '--from', from]
    const result = await runCli(args, {cwd: dir})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /verified by sidecar/)
    assert.deepEqual(await readFile(path.join(dir, '.kernel/6.1.102/amd64/vmlinux.bin')), kernel)
    assert.equal(await readFile(path.join(dir, '.kernel/6.1.102/amd64/vmlinux.bin.sha256'), 'utf8'), `${sha(kernel)}  vmlinux.bin\n`)
    server.remove('/public-builds/kernels/6.1.102/amd64/vmlinux.bin.sha256')
    assert.equal((await runCli([...args, '--force'], {cwd: dir})).code, 3, 'nothing can verify it')
    const allowed = await runCli([...args, '--force', '--allow-unverified'], {cwd: dir})
    assert.equal(allowed.code, 0, allowed.stderr)
    assert.match(allowed.stderr, /warning: .*has no sidecar, no --sha256 pin and no checksum from the service: installed unverified/)
  })
})

describe('fetch: the oclif command and the fast path behave alike', () => {
  it('fetches, reports up to date, and fails with the same exit codes and lines through oclif', async () => {
    const viaOclif = {E2B_ARTIFACTS_FAST_PATH: '0'}
    const args = ['fetch', '--version', V, '--arch', 'amd64', '--from', from]
    const fetched = await runCli([...args, '--json'], {cwd: dir, env: viaOclif})
    assert.equal(fetched.code, 0, fetched.stderr)
    assert.equal(JSON.parse(fetched.stdout).status, 'fetched')
    await assertInstalled(amd64)
    const upToDate = await runCli(args, {cwd: dir, env: viaOclif})
    assert.match(upToDate.stderr, /is up to date/)
    server.fault(OBJECT, [{kind: 'flip'}, {kind: 'flip'}])
    const [slow, fast] = await Promise.all([runCli([...args, '--force'], {cwd: dir, env: viaOclif}), runCli([...args, '--force', '--json'], {cwd: dir})])
    assert.equal(slow.code, 3)
    assert.equal(fast.code, 3)
    assert.equal(slow.stderr, fast.stderr, 'the same one error line either way')
    assert.equal(JSON.parse(fast.stdout).error.exitCode, 3)
    await assertInstalled(amd64)
  })
})

describe('fetch: transient faults are retried', () => {
  for (const [name, faults] of [
    ['HTTP 503 twice', [{kind: 'status', status: 503}, {kind: 'status', status: 503}]],
    ['HTTP 429 with Retry-After', [{headers: {'retry-after': '0'}, kind: 'status', status: 429}]],
    ['a connection reset mid-body', [{kind: 'reset'}]],
    ['a truncated body', [{kind: 'truncate'}, {kind: 'truncate'}]],
    ['a stalled body', [{afterBytes: 1000, kind: 'stall'}]],
  ] as const) {
    it(`survives ${name}`, async () => {
      server.fault(OBJECT, [...faults])
      const result = await runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', from], {cwd: dir, env: {E2B_ARTIFACTS_TIMEOUT_MS: '400'}})
      assert.equal(result.code, 0, result.stderr)
      assert.equal(server.pendingFaults(OBJECT), 0)
      assert.equal(binaryGets(), faults.length + 1)
      await assertInstalled(amd64)
    })
  }

  it('gives up after 4 tries with exit 1, one error line, and nothing left behind', async () => {
    server.fault(OBJECT, Array.from({length: 4}, () => ({kind: 'status' as const, status: 500})))
    const result = await fetch()
    assert.equal(result.code, 1)
    assert.equal(binaryGets(), 4)
    const lines = result.stderr.trimEnd().split('\n')
    assert.equal(lines.filter((line) => line.startsWith('warning: ')).length, 3, 'each retry is logged')
    assert.match(lines.at(-1) ?? '', /^e2b-artifacts: error: download failed after 4 tries: GET http:\/\/127\.0\.0\.1:\d+\/public-builds\/busybox\/1\.35\.0\/amd64\/busybox: HTTP 500$/)
    assert.equal(lines.filter((line) => line.startsWith('e2b-artifacts: error:')).length, 1)
    assert.deepEqual(await listFiles(dir), [])
  })

  it('never shortens a file: four truncated bodies fail the fetch', async () => {
    server.fault(OBJECT, Array.from({length: 4}, () => ({kind: 'truncate' as const})))
    const result = await fetch()
    assert.equal(result.code, 1)
    assert.deepEqual(await listFiles(dir), [])
  })

  it('does not retry a 403', async () => {
    server.fault(OBJECT, [{kind: 'status', status: 403}])
    const result = await fetch()
    assert.equal(result.code, 1)
    assert.equal(binaryGets(), 1)
    assert.match(result.stderr, /access denied \(HTTP 403\)/)
  })
})

describe('fetch: integrity failures (exit 3) never install anything', () => {
  const cases: Array<[string, () => void, RegExp]> = [
    ['flipped bytes', () => server.fault(OBJECT, [{kind: 'flip'}]), /has sha256 [0-9a-f]{64}, but its sidecar says/],
    ['a malformed sidecar', () => server.put(`${OBJECT}.sha256`, '<html>oops</html>'), /sidecar .*busybox\.sha256 is malformed/],
    ['an oversized sidecar', () => server.put(`${OBJECT}.sha256`, `${sha(amd64)}  busybox\n`.padEnd(5000, '#')), /larger than the 4096-byte limit/],
    ['a sidecar naming another file', () => server.put(`${OBJECT}.sha256`, `${sha(amd64)}  vmlinux.bin\n`), /names 'vmlinux\.bin', not 'busybox'/],
    ['a missing sidecar', () => server.remove(`${OBJECT}.sha256`), /sidecar .* is missing: refusing an unverified busybox/],
    ['an arm64 binary at the amd64 path', () => publish(OBJECT, arm64), /is built for aarch64, not amd64/],
  ]
  for (const [name, plant, message] of cases) {
    it(`rejects ${name}`, async () => {
      plant()
      const result = await fetch()
      assert.equal(result.code, 3, result.stderr)
      assert.match(result.stderr, message)
      assert.equal(result.stderr.split('\n').filter(Boolean).length, 1, 'one error line')
      assert.deepEqual(await listFiles(dir), [])
    })
  }

  it('keeps an existing good file when a forced re-fetch gets bad bytes', async () => {
    assert.equal((await fetch()).code, 0)
    server.fault(OBJECT, [{kind: 'flip'}])
    const result = await fetch('--force')
    assert.equal(result.code, 3)
    await assertInstalled(amd64)
  })

  it('refuses a download that disagrees with the --sha256 pin, and a pin the sidecar contradicts', async () => {
    const wrongPin = sha('something else')
    const result = await fetch('--sha256', wrongPin)
    assert.equal(result.code, 3)
    assert.match(result.stderr, /sidecar .* says [0-9a-f]{64}, but --sha256 pins/)
    assert.deepEqual(await listFiles(dir), [])
  })

  it('does not treat a file as up to date when the pin differs from its recorded digest', async () => {
    assert.equal((await fetch()).code, 0)
    server.resetLog()
    const result = await fetch('--sha256', sha('other'))
    assert.equal(result.code, 3)
    assert.ok(binaryGets() >= 1, 'the pin forced a re-check against the source')
    await assertInstalled(amd64)
  })

  it('reports --json errors with the documented exit code', async () => {
    server.fault(OBJECT, [{kind: 'flip'}])
    const result = await fetch('--json')
    assert.equal(result.code, 3)
    assert.deepEqual(Object.keys(JSON.parse(result.stdout).error).sort(), ['exitCode', 'kind', 'message'])
    assert.equal(JSON.parse(result.stdout).error.exitCode, 3)
  })
})

describe('fetch: usage errors (exit 2) happen before any request', () => {
  const cases: Array<[Record<string, string>, string[], RegExp]> = [
    [{version: '../x'}, [], /invalid version '\.\.\/x'/],
    [{version: ''}, [], /invalid version ''/],
    [{arch: 'riscv64'}, [], /unknown arch 'riscv64'/],
    [{}, ['vmlinux'], /unknown artifact 'vmlinux'/],
    [{from: 'ftp://mirror/x'}, [], /unsupported location scheme 'ftp:'/],
    [{from: 'http://example.com/bucket'}, [], /refusing plain http to non-loopback host 'example\.com'/],
    [{sha256: 'abc'}, [], /--sha256 is not a sha256 digest/],
    [{}, ['--no-such-flag'], /Nonexistent flag: --no-such-flag/],
  ]
  for (const [overrides, extra, message] of cases) {
    it(`rejects ${JSON.stringify(overrides)} ${extra.join(' ')}`, async () => {
      const flags = {arch: 'amd64', from, version: V, ...overrides}
      const base = ['fetch', ...Object.entries(flags).flatMap(([name, value]) => [`--${name}`, value])]
      const args = extra
      const result = await runCli([...base, ...args], {cwd: dir})
      assert.equal(result.code, 2, result.stderr)
      assert.match(result.stderr, message)
      assert.equal(result.stderr.split('\n').filter(Boolean).length, 1, `one line: ${result.stderr}`)
      const json = await runCli([...base, ...args, '--json'], {cwd: dir})
      assert.equal(json.code, 2, 'the --json exit code is the documented one, not 1')
      assert.equal(JSON.parse(json.stdout).error.kind, 'usage')
      assert.deepEqual(server.requests, [])
      assert.deepEqual(await listFiles(dir), [])
    })
  }

  it('reports a missing version as not found (exit 4)', async () => {
    const result = await runCli(['fetch', '--version', '9.9.9', '--arch', 'amd64', '--from', from], {cwd: dir})
    assert.equal(result.code, 4)
    assert.match(result.stderr, /busybox 9\.9\.9\/amd64 not found at .*: check --version, --arch and --from/)
    assert.deepEqual(await listFiles(dir), [])
  })

  it('refuses a redirect to plain http off loopback', async () => {
    server.fault(OBJECT, [{kind: 'redirect', location: 'http://example.com/busybox'}])
    const result = await fetch()
    assert.equal(result.code, 1)
    assert.match(result.stderr, /refusing redirect to http:\/\/example\.com\/busybox/)
    assert.deepEqual(await listFiles(dir), [])
  })
})

describe('fetch: concurrency and interruption', () => {
  it('lets many concurrent fetches of one path all end with a correct file', async () => {
    const results = await Promise.all(Array.from({length: 8}, () => fetch('--force')))
    for (const result of results) assert.equal(result.code, 0, result.stderr)
    await assertInstalled(amd64)
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`removes its temp files when killed with ${signal} during a stalled download`, async () => {
      server.fault(OBJECT, [{afterBytes: 100_000, kind: 'stall'}])
      const child = startCli(['fetch', '--version', V, '--arch', 'amd64', '--from', from], {cwd: dir, env: {E2B_ARTIFACTS_TIMEOUT_MS: '30000'}})
      const target = path.join(dir, '.busybox', V, 'amd64')
      for (let i = 0; i < 200 && !(await listFiles(target)).some((f) => f.endsWith('.tmp')); i++) await sleep(25)
      assert.ok((await listFiles(target)).some((f) => f.endsWith('.tmp')), 'a temp file exists while the download stalls')
      child.kill(signal)
      const result = await child.done
      assert.equal(result.code, signal === 'SIGTERM' ? 143 : 130)
      assert.deepEqual(await listFiles(dir), [])
    })
  }
})
