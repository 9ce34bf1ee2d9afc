import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmod, mkdir, readFile, readdir, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {CLI, type CliResult, runCli, startCli, testEnv} from '../support/cli.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {listFiles, removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')

let server: ArtifactServer
let amd64: Buffer
let arm64: Buffer
let dir: string
let from: string

const objectPath = (artifact: string, version: string, arch: string, file: string): string => `/public-builds/${artifact}/${version}/${arch}/${file}`

function publish(objectUrlPath: string, body: Buffer): void {
  server.put(objectUrlPath, body)
  server.put(`${objectUrlPath}.sha256`, `${sha(body)}  ${path.basename(objectUrlPath)}\n`)
}

const binaryGets = (urlPath: string): number => server.requests.filter((r) => r.method === 'GET' && r.path === urlPath).length

function fetch(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return runCli(['fetch', '--from', from, ...args], {cwd: dir, env, timeoutMs})
}

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
  server.delay(0)
  publish(objectPath('busybox', V, 'amd64', 'busybox'), amd64)
  publish(objectPath('busybox', V, 'arm64', 'busybox'), arm64)
  dir = await tempDir('fetch-edges')
})

describe('fetch: "up to date" only for the requested version and arch', () => {
  it('replaces an amd64 busybox at a fixed --out when arm64 is asked for', async () => {
    const first = await fetch(['--version', V, '--arch', 'amd64', '--out', 'd/busybox'])
    assert.equal(first.code, 0, first.stderr)
    const second = await fetch(['--version', V, '--arch', 'arm64', '--out', 'd/busybox'])
    assert.equal(second.code, 0, second.stderr)
    assert.match(second.stderr, new RegExp(`^fetched busybox ${V}/arm64 to d/busybox `))
    assert.deepEqual(await readFile(path.join(dir, 'd', 'busybox')), arm64)
    assert.equal(binaryGets(objectPath('busybox', V, 'arm64', 'busybox')), 1)
    // And the arm64 copy is up to date for arm64, with no request at all.
    server.resetLog()
    const third = await fetch(['--version', V, '--arch', 'arm64', '--out', 'd/busybox'])
    assert.equal(third.code, 0, third.stderr)
    assert.match(third.stderr, /is up to date at d\/busybox/)
    assert.deepEqual(server.requests, [])
  })

  it('asks the server for another version instead of calling the local copy up to date', async () => {
    assert.equal((await fetch(['--version', V, '--arch', 'amd64', '--out', 'd/busybox'])).code, 0)
    server.resetLog()
    const other = await fetch(['--version', '9.9.9', '--arch', 'amd64', '--out', 'd/busybox', '--json'])
    assert.equal(other.code, 4, other.stderr)
    assert.doesNotMatch(other.stdout, /up-to-date/)
    assert.ok(server.requests.some((r) => r.path === objectPath('busybox', '9.9.9', 'amd64', 'busybox')), 'it went to the server')
    // The good file is left as it was.
    assert.deepEqual(await readFile(path.join(dir, 'd', 'busybox')), amd64)
  })

  it('refuses a busybox whose banner names another version (exit 3), which no later run could call up to date', async () => {
    assert.equal((await fetch(['--version', V, '--arch', 'amd64', '--out', 'd/busybox'])).code, 0)
    // The V build, published (with a matching sidecar) as 9.9.8.
    publish(objectPath('busybox', '9.9.8', 'amd64', 'busybox'), amd64)
    const wrong = await fetch(['--version', '9.9.8', '--arch', 'amd64', '--out', 'd/busybox'])
    assert.equal(wrong.code, 3, wrong.stderr)
    assert.deepEqual(wrong.stderr.trim().split('\n'), [
      `e2b-artifacts: error: ${from}/busybox/9.9.8/amd64/busybox does not contain 'BusyBox v9.9.8': it is BusyBox ${V}; check --version and the source`,
    ])
    // The good file and its sidecar stay as they were, and no temp file is left.
    assert.deepEqual(await readFile(path.join(dir, 'd', 'busybox')), amd64)
    assert.equal(await readFile(path.join(dir, 'd', 'busybox.sha256'), 'utf8'), `${sha(amd64)}  busybox\n`)
    assert.deepEqual(await listFiles(dir), ['d/busybox', 'd/busybox.sha256'])
  })

  it('tells kernels apart by the origin record written at install, which content alone cannot do', async () => {
    const kernelA = Buffer.from('kernel image A\n'.repeat(1000))
    const kernelB = Buffer.from('kernel image B\n'.repeat(1000))
    publish(objectPath('kernels', '6.1.1', 'amd64', 'vmlinux.bin'), kernelA)
    publish(objectPath('kernels', '6.1.2', 'amd64', 'vmlinux.bin'), kernelB)
    const kernel = (version: string): Promise<CliResult> => fetch(['kernel', '--version', version, '--arch', 'amd64', '--out', 'k/vmlinux.bin'])
    assert.equal((await kernel('6.1.1')).code, 0)
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'k', 'vmlinux.bin.origin'), 'utf8')), {arch: 'amd64', artifact: 'kernel', sha256: sha(kernelA), version: '6.1.1'})
    const bumped = await kernel('6.1.2')
    assert.equal(bumped.code, 0, bumped.stderr)
    assert.match(bumped.stderr, /^fetched kernel 6\.1\.2\/amd64/)
    assert.deepEqual(await readFile(path.join(dir, 'k', 'vmlinux.bin')), kernelB)
    server.resetLog()
    const again = await kernel('6.1.2')
    assert.match(again.stderr, /is up to date/)
    assert.deepEqual(server.requests, [])
    // A kernel that its record does not vouch for (another tool put it there) is fetched again.
    await writeFile(path.join(dir, 'k', 'vmlinux.bin'), kernelA)
    await writeFile(path.join(dir, 'k', 'vmlinux.bin.sha256'), `${sha(kernelA)}  vmlinux.bin\n`)
    const replaced = await kernel('6.1.2')
    assert.match(replaced.stderr, /^fetched kernel 6\.1\.2/)
    assert.deepEqual(await readFile(path.join(dir, 'k', 'vmlinux.bin')), kernelB)
  })

  it('tells Firecracker versions apart by the origin record, and its arch by the ELF machine', async () => {
    publish(objectPath('firecrackers', 'v1.7.0', 'amd64', 'firecracker'), amd64)
    publish(objectPath('firecrackers', 'v1.8.0', 'amd64', 'firecracker'), Buffer.concat([amd64, Buffer.from('v1.8')]))
    const firecracker = (version: string): Promise<CliResult> => fetch(['firecracker', '--version', version, '--arch', 'amd64', '--out', 'fc/firecracker'])
    assert.equal((await firecracker('v1.7.0')).code, 0)
    const bumped = await firecracker('v1.8.0')
    assert.match(bumped.stderr, /^fetched firecracker v1\.8\.0\/amd64/, bumped.stderr)
  })
})

describe('fetch: a minimum transfer speed', () => {
  it('aborts, retries and then fails a body slower than the limit, naming the URL and the speed; nothing is left behind', async () => {
    const binary = objectPath('busybox', V, 'amd64', 'busybox')
    server.fault(binary, [
      {bytesPerSecond: 200, kind: 'trickle'},
      {bytesPerSecond: 200, kind: 'trickle'},
    ])
    const started = Date.now()
    const result = await fetch(['--version', V, '--arch', 'amd64', '--out', 'out/busybox'], {E2B_ARTIFACTS_RETRIES: '2', E2B_ARTIFACTS_SPEED_LIMIT: '1000', E2B_ARTIFACTS_SPEED_TIME: '2'}, 40_000)
    assert.equal(result.code, 1, result.stderr)
    assert.ok(Date.now() - started < 30_000, 'it gave up within seconds')
    const lines = result.stderr.trimEnd().split('\n')
    assert.match(lines.at(-1)!, new RegExp(`^e2b-artifacts: error: download failed after 2 tries: GET http://127\\.0\\.0\\.1:\\d+${binary}: transfer slower than 1000 B/s for 2 s \\(\\d+ bytes in the last 2 s\\)`))
    assert.match(result.stderr, /retrying \(try 2\)/)
    assert.equal(binaryGets(binary), 2)
    assert.deepEqual(await listFiles(dir), [])
  })

  it('lets a slow but steady body through', async () => {
    const binary = objectPath('busybox', V, 'amd64', 'busybox')
    server.fault(binary, [{afterBytes: amd64.length - 6000, bytesPerSecond: 2000, kind: 'trickle'}])
    const result = await fetch(['--version', V, '--arch', 'amd64', '--out', 'out/busybox'], {E2B_ARTIFACTS_SPEED_LIMIT: '1000', E2B_ARTIFACTS_SPEED_TIME: '2'})
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(await readFile(path.join(dir, 'out', 'busybox')), amd64)
  })
})

describe('fetch: edge cases at the final path', () => {
  it('refuses an --out that is a directory, before any request and without writing a sidecar next to it', async () => {
    await mkdir(path.join(dir, 'd'))
    const result = await fetch(['--version', V, '--arch', 'amd64', '--out', 'd'])
    assert.equal(result.code, 2, result.stderr)
    assert.equal(result.stderr, "e2b-artifacts: error: --out 'd' is a directory, not a file: remove it or give the path of the file to write\n")
    assert.deepEqual(await readdir(dir), ['d'])
    assert.deepEqual(server.requests, [])
  })

  it('refuses a FIFO at --out at once instead of blocking on it, with --force too', async () => {
    execFileSync('mkfifo', [path.join(dir, 'pipe')])
    for (const extra of [[], ['--force']]) {
      const result = await fetch(['--version', V, '--arch', 'amd64', '--out', 'pipe', ...extra], {}, 15_000)
      assert.equal(result.code, 2, result.stderr)
      assert.equal(result.stderr, "e2b-artifacts: error: --out 'pipe' is a FIFO, not a file: remove it or give the path of the file to write\n")
    }
    assert.deepEqual(await readdir(dir), ['pipe'])
    assert.deepEqual(server.requests, [])
  })

  it('installs under a 240-byte file name: temp names stay short', async () => {
    const name = 'b'.repeat(240)
    const result = await fetch(['--version', V, '--arch', 'amd64', '--out', name])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(await readFile(path.join(dir, name)), amd64)
    assert.deepEqual(await listFiles(dir), [name, `${name}.sha256`])
  })

  it('refuses a file name too long for its sidecar with one line', async () => {
    const result = await fetch(['--version', V, '--arch', 'amd64', '--out', 'b'.repeat(250)])
    assert.equal(result.code, 2, result.stderr)
    assert.equal(result.stderr, 'e2b-artifacts: error: --out: the file name is 250 bytes, but its .sha256 sidecar must fit in 255: use a name of at most 248 bytes\n')
  })

  it('sweeps the temp file a kill -9 left behind on the next run', async () => {
    const binary = objectPath('busybox', V, 'amd64', 'busybox')
    server.fault(binary, [{afterBytes: 4096, bytesPerSecond: 1000, kind: 'trickle'}])
    const out = path.join(dir, 'out')
    const child = startCli(['fetch', '--from', from, '--version', V, '--arch', 'amd64', '--out', 'out/busybox'], {cwd: dir})
    let temps: string[] = []
    for (let waited = 0; temps.length === 0 && waited < 15_000; waited += 50) {
      await sleep(50)
      temps = (await readdir(out).catch(() => [])).filter((name) => name.endsWith('.tmp'))
    }
    assert.equal(temps.length, 1, 'the download is staging into a temp file')
    child.kill('SIGKILL')
    const killed = await child.done
    assert.equal(killed.signal, 'SIGKILL')
    assert.deepEqual(await readdir(out), temps, 'kill -9 leaves the temp file')
    const rerun = await fetch(['--version', V, '--arch', 'amd64', '--out', 'out/busybox'])
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.deepEqual(await listFiles(dir), ['out/busybox', 'out/busybox.sha256'])
  })

  it('leaves alone a temp-like file that is not of its making', async () => {
    await mkdir(path.join(dir, 'out'))
    // Right shape but our pid's owner tag cannot match, and a plain name.
    const foreign = ['.busybox.e2b-1-0-00000000-00000000.tmp', '.busybox.123.abcdef.tmp']
    for (const name of foreign) await writeFile(path.join(dir, 'out', name), 'x')
    const result = await fetch(['--version', V, '--arch', 'amd64', '--out', 'out/busybox'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual((await readdir(path.join(dir, 'out'))).sort(), [...foreign, 'busybox', 'busybox.sha256'].sort())
  })
})

/** Mounts a tmpfs at `mountPoint`, or says why it cannot (not root, no mount permission). */
function mountTmpfs(mountPoint: string, options: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', mountPoint], {stdio: 'pipe'})
    return undefined
  } catch (error) {
    return `cannot mount a tmpfs here (${(error as {stderr?: Buffer}).stderr?.toString().trim() || (error as Error).message}): needs root, as CI has`
  }
}

function unmount(mountPoint: string): void {
  execFileSync('umount', [mountPoint], {stdio: 'pipe'})
}

/** Runs the CLI as nobody (root passes every permission check), or as this user when it is not root. */
function runAsUnprivileged(args: string[], cwd: string): Promise<CliResult> {
  const asRoot = process.getuid?.() === 0
  const command = asRoot ? 'setpriv' : process.execPath
  const argv = asRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args] : [CLI, ...args]
  const child = spawn(command, argv, {cwd, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code, signal, stderr, stdout}))
  })
}

describe('fetch: a destination that cannot be written gets one line naming the path and what to do', () => {
  it('a read-only file system (EROFS), even where a parent directory is missing', async (t) => {
    const mountPoint = path.join(dir, 'ro')
    await mkdir(mountPoint)
    const skip = mountTmpfs(mountPoint, 'size=1m,ro')
    if (skip) {
      t.skip(skip)
      return
    }
    try {
      const result = await fetch(['--version', V, '--arch', 'amd64', '--out', 'ro/sub/busybox'])
      assert.equal(result.code, 1, result.stderr)
      assert.equal(result.stderr, `e2b-artifacts: error: cannot create the directory ${mountPoint}/sub: read-only file system (EROFS): choose a destination on a writable file system\n`)
      assert.deepEqual(server.requests, [], 'it failed before downloading')
    } finally {
      unmount(mountPoint)
    }
  })

  it('no space left on device (ENOSPC): nothing at --out and no temp file left', async (t) => {
    const mountPoint = path.join(dir, 'full')
    await mkdir(mountPoint)
    const skip = mountTmpfs(mountPoint, 'size=64k')
    if (skip) {
      t.skip(skip)
      return
    }
    try {
      const result = await fetch(['--version', V, '--arch', 'amd64', '--out', 'full/busybox'])
      assert.equal(result.code, 1, result.stderr)
      assert.equal(result.stderr, `e2b-artifacts: error: cannot write ${mountPoint}/busybox: no space left on device (ENOSPC): free some space there, or choose another destination\n`)
      assert.deepEqual(await readdir(mountPoint), [])
    } finally {
      unmount(mountPoint)
    }
  })

  it('permission denied (EACCES), for a new directory and for a file in an existing one', async () => {
    // Readable and searchable by anyone, writable by its owner only (root, or this user).
    await chmod(dir, 0o755)
    const locked = path.join(dir, 'locked')
    await mkdir(locked, {mode: 0o755})
    if (process.getuid?.() !== 0) await chmod(locked, 0o555)
    for (const [out, message] of [
      ['locked/sub/busybox', `cannot create the directory ${locked}/sub: permission denied (EACCES)`],
      ['locked/busybox', `cannot open ${locked}/busybox: permission denied (EACCES)`],
    ] as const) {
      const result = await runAsUnprivileged(['fetch', '--from', from, '--version', V, '--arch', 'amd64', '--out', out], dir)
      assert.equal(result.code, 1, result.stderr)
      assert.equal(result.stderr, `e2b-artifacts: error: ${message}: fix the permissions there, or choose another destination\n`)
    }
    assert.deepEqual(await readdir(locked), [])
    assert.equal((await stat(locked)).isDirectory(), true)
  })
})
