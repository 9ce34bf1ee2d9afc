import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {copyFile, chmod, mkdir, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {networkInterfaces, userInfo} from 'node:os'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'

import {type SandboxKind, type SandboxResult, SANDBOX_KINDS, detectSandbox, runSandboxed} from '../../src/integrity/sandbox.js'
import {FIXTURE_VERSION, busyboxFixture} from '../support/fixtures.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const execFileAsync = promisify(execFile)
const SENTINEL = 'e2b-sandbox-SENTINEL-7f3a9c'
const SECRET_ENV = ['GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AZURE_STORAGE_CONNECTION_STRING', 'GOOGLE_APPLICATION_CREDENTIALS', 'HOME', 'TMPDIR']

// Every run below goes through the same TMPDIR, so the test can tell that the sandboxes leave nothing behind.
const scratch = await tempDir('e2b-sandbox-test')
const savedEnv = Object.fromEntries(SECRET_ENV.map((name) => [name, process.env[name]]))
process.env.TMPDIR = path.join(scratch, 'tmp')
await mkdir(process.env.TMPDIR)

const available = new Map<SandboxKind, string | undefined>()
for (const kind of SANDBOX_KINDS) {
  const info = await detectSandbox([kind])
  available.set(kind, info.available ? undefined : info.reason)
}

/** Like the uploader's staged copy: a temp name that is no applet, and mode 0600. */
async function stagedBusybox(): Promise<string> {
  const file = path.join(scratch, `.busybox.${process.pid}.tmp`)
  await copyFile(busyboxFixture(process.arch === 'arm64' ? 'arm64' : 'amd64'), file)
  await chmod(file, 0o600)
  return file
}

function assertRan(result: SandboxResult, kind: SandboxKind): asserts result is Extract<SandboxResult, {ran: true}> {
  assert.equal(result.ran, true, result.ran ? '' : result.reason)
  assert.equal(result.sandbox, kind)
}

after(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) Reflect.deleteProperty(process.env, name)
    else process.env[name] = value
  }
  await removeTempDirs()
})

it('finds a working sandbox on this machine (set E2B_ARTIFACTS_TEST_ALLOW_NO_SANDBOX=1 where none can work)', {skip: process.env.E2B_ARTIFACTS_TEST_ALLOW_NO_SANDBOX === '1'}, async () => {
  const info = await detectSandbox()
  assert.equal(info.available, true, info.available ? '' : info.reason)
})

describe('without a sandbox', () => {
  it('reports why and runs nothing, not even a read of the file', async () => {
    const missing = path.join(scratch, 'no-such-binary')
    assert.deepEqual(await detectSandbox([]), {available: false, reason: 'no sandbox is allowed'})
    assert.deepEqual(await runSandboxed(missing, [], {argv0: 'busybox', sandboxes: [], timeoutMs: 5000}), {ran: false, reason: 'no sandbox is allowed'})
  })

  it('never falls back to running the binary unsandboxed', async () => {
    const marker = path.join(scratch, 'ran-unsandboxed')
    const result = await runSandboxed(await stagedBusybox(), ['touch', marker], {argv0: 'busybox', sandboxes: [], timeoutMs: 5000})
    assert.equal(result.ran, false)
    await assert.rejects(readFile(marker), {code: 'ENOENT'})
  })

  it('refuses an argv0 that is not a plain file name', async () => {
    for (const argv0 of ['', '../busybox', 'bin/busybox', '.hidden']) {
      await assert.rejects(runSandboxed('/nonexistent', [], {argv0, sandboxes: [], timeoutMs: 5000}), RangeError)
    }
  })
})

for (const kind of SANDBOX_KINDS) {
  describe(`in ${kind}`, {skip: available.get(kind)}, () => {
    let busybox: string
    const run = (args: readonly string[], timeoutMs = 10_000, maxOutputBytes?: number): Promise<SandboxResult> =>
      runSandboxed(busybox, args, {argv0: 'busybox', sandboxes: [kind], timeoutMs, ...(maxOutputBytes ? {maxOutputBytes} : {})})

    before(async () => {
      busybox = await stagedBusybox()
    })

    it('runs the staged 0600 copy under argv0, and it prints its banner', async () => {
      const result = await run([])
      assertRan(result, kind)
      assert.equal(result.exitCode, 0)
      assert.match(result.stdout, new RegExp(`^BusyBox v${FIXTURE_VERSION.replaceAll('.', '\\.')} `))
      const applet = await runSandboxed(busybox, ['hello', 'sandbox'], {argv0: 'echo', sandboxes: [kind], timeoutMs: 10_000})
      assertRan(applet, kind)
      assert.equal(applet.stdout, 'hello sandbox\n')
    })

    it('shows it nothing of the host: only itself under /bin, an empty /tmp as HOME', async () => {
      const root = await run(['ls', '-A', '/'])
      assertRan(root, kind)
      assert.deepEqual(root.stdout.split('\n').filter(Boolean).filter((entry) => !['bin', 'dev', 'tmp'].includes(entry)), [])
      const bin = await run(['ls', '-A', '/bin'])
      assertRan(bin, kind)
      assert.equal(bin.stdout, 'busybox\n')
      const tmp = await run(['ls', '-A', '/tmp'])
      assertRan(tmp, kind)
      assert.equal(tmp.stdout, '')
    })

    it('cannot read a planted credential file, in HOME, at GOOGLE_APPLICATION_CREDENTIALS or under /root', async () => {
      const home = path.join(scratch, 'home')
      const planted = ['.aws/credentials', '.config/gcloud/application_default_credentials.json', '.azure/msal_token_cache.json', '.docker/config.json', 'adc.json'].map((file) => path.join(home, file))
      for (const file of planted) {
        await mkdir(path.dirname(file), {recursive: true})
        await writeFile(file, `${SENTINEL}\n`, {mode: 0o644})
      }
      process.env.HOME = home
      process.env.GOOGLE_APPLICATION_CREDENTIALS = path.join(home, 'adc.json')
      const realHome = userInfo().homedir
      const inRealHome = process.getuid?.() === 0 ? path.join(realHome, `.e2b-sandbox-test-${process.pid}`) : undefined
      if (inRealHome) {
        await writeFile(inRealHome, `${SENTINEL}\n`, {mode: 0o644})
        planted.push(inRealHome)
      }
      try {
        for (const file of planted) {
          const result = await run(['cat', file])
          assertRan(result, kind)
          assert.notEqual(result.exitCode, 0, `${file} was readable`)
          assert.doesNotMatch(result.stdout + result.stderr, new RegExp(SENTINEL))
          assert.match(result.stderr, /No such file or directory/)
        }
        const proc = await run(['cat', '/proc/1/environ'])
        assertRan(proc, kind)
        assert.notEqual(proc.exitCode, 0)
      } finally {
        if (inRealHome) await rm(inRealHome, {force: true})
      }
    })

    it('gets no environment but PATH and HOME: no token reaches it', async () => {
      process.env.GITHUB_TOKEN = SENTINEL
      process.env.AWS_SECRET_ACCESS_KEY = SENTINEL
      process.env.AZURE_STORAGE_CONNECTION_STRING = `AccountKey=${SENTINEL}`
      const result = await run(['env'])
      assertRan(result, kind)
      assert.doesNotMatch(result.stdout, new RegExp(SENTINEL))
      // bwrap's --chdir also sets PWD.
      const names = result.stdout.split('\n').filter((line) => line && line !== 'PWD=/tmp')
      assert.deepEqual(names.sort(), ['HOME=/tmp', 'PATH=/bin'])
    })

    it('cannot reach the network, not even the host on loopback', async () => {
      let connections = 0
      const server: Server = createServer((_request, response) => response.end(SENTINEL))
      server.on('connection', () => connections++)
      await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve))
      const {port} = server.address() as AddressInfo
      const external = Object.values(networkInterfaces())
        .flat()
        .find((address) => address?.family === 'IPv4' && !address.internal)?.address
      // No -T: this busybox's wget crashes with it, which would pass for "unreachable".
      const wget = (host: string): string[] => ['wget', '-q', '-O', '-', `http://${host}:${port}/`]
      try {
        for (const host of ['127.0.0.1', ...(external ? [external] : [])]) {
          const result = await run(wget(host), 15_000)
          assertRan(result, kind)
          assert.equal(result.timedOut, false)
          assert.equal(result.signal, undefined, `wget crashed: ${result.signal}`)
          assert.notEqual(result.exitCode, 0, `reached ${host}`)
          assert.doesNotMatch(result.stdout, new RegExp(SENTINEL))
        }
        assert.equal(connections, 0)
        // The same command, outside the sandbox, does reach the server.
        const {stdout} = await execFileAsync(busyboxFixture(process.arch === 'arm64' ? 'arm64' : 'amd64'), wget('127.0.0.1'), {timeout: 10_000})
        assert.equal(stdout, SENTINEL)
        assert.equal(connections, 1)
      } finally {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      }
    })

    it('is killed at the deadline, with everything it started', async () => {
      // The unusual duration marks the process; setsid takes it out of the sandbox's process group and session.
      const began = Date.now()
      const running = run(['sh', '-c', 'busybox setsid busybox sleep 4242; busybox sleep 4243'], 2000)
      const started = await eventually(async () => (await processesMatching(/^busybox sleep 4242 $/)).length === 1)
      const result = await running
      assert.ok(started, 'the escaping process never started')
      assertRan(result, kind)
      assert.equal(result.timedOut, true)
      assert.ok(Date.now() - began < 8000, `took ${Date.now() - began} ms`)
      assert.ok(await eventually(async () => (await processesMatching(/^busybox sleep 424[23] $/)).length === 0), 'a process outlived the deadline')
    })

    it('is cut off when it writes more than maxOutputBytes', async () => {
      const result = await run(['yes', 'y'], 20_000, 10_000)
      assertRan(result, kind)
      assert.equal(result.truncated, true)
      assert.equal(result.timedOut, false)
      assert.equal(result.stdout.length, 10_000)
    })

    it('leaves nothing in TMPDIR', async () => {
      await run([])
      assert.deepEqual(await readdir(process.env.TMPDIR!), [])
    })
  })
}

/** Command lines of the live processes (not zombies) that match `pattern`. */
async function processesMatching(pattern: RegExp): Promise<string[]> {
  const found: string[] = []
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ')
      if (pattern.test(cmdline)) found.push(`${pid}: ${cmdline}`)
    } catch {
      // It ended while we looked.
    }
  }
  return found
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 1500): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
    if (await check()) return true
  }
  return check()
}
