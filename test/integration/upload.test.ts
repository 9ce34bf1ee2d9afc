import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'
import {promisify} from 'node:util'

import type {S3Client} from '@aws-sdk/client-s3'
import type {ContainerClient} from '@azure/storage-blob'

import {type ArtifactServer, type ReleaseAssetSpec, startArtifactServer} from '../support/artifact-server.js'
import {type AzuriteServer, azuriteServer} from '../support/azurite.js'
import {type CliResult, runCli, startCli} from '../support/cli.js'
import {type GcsServer, type S3Server, gcsServer, s3Server, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {listFiles, removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const OWNER = 'e2b-dev'
const REPO = 'fc-busybox'
const TAG = `v${V}`
const SENTINEL = 'ghp_SENTINEL0123456789abcdefSENTINEL'

let server: ArtifactServer
let amd64: Buffer
let arm64: Buffer
/** TMPDIR of the CLI under test: must be empty after every run. */
let tmp: string
/** A file:// destination (the public layout puts keys under busybox/). */
let dest: string

const assetName = (arch: string, tag = TAG): string => `busybox_${tag}_${arch}`
const sumsFor = (entries: Record<string, Buffer>): string =>
  Object.entries(entries)
    .map(([name, body]) => `${sha(body)}  ${name}\n`)
    .join('')

/** A release as fc-busybox's workflow publishes it, with optional replacements. */
function release(overrides: {amd64?: Partial<ReleaseAssetSpec> | null; arm64?: Partial<ReleaseAssetSpec> | null; sums?: string | null; tag?: string} = {}): void {
  const tag = overrides.tag ?? TAG
  const assets: ReleaseAssetSpec[] = []
  if (overrides.amd64 !== null) assets.push({body: amd64, name: assetName('amd64', tag), ...overrides.amd64})
  if (overrides.arm64 !== null) assets.push({body: arm64, name: assetName('arm64', tag), ...overrides.arm64})
  const sums = overrides.sums === undefined ? sumsFor({[assetName('amd64', tag)]: amd64, [assetName('arm64', tag)]: arm64}) : overrides.sums
  if (sums !== null) assets.push({body: sums, name: 'SHA256SUMS'})
  server.addRelease({assets, owner: OWNER, repo: REPO, tag})
}

function githubEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {GITHUB_API_URL: `${server.url}/api`, GITHUB_SERVER_URL: server.url, TMPDIR: tmp, ...extra}
}

function upload(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const version = args.includes('--version') ? [] : ['--version', V]
  return runCli(['upload', ...version, ...args], {env: githubEnv(env), timeoutMs: 60_000})
}

const destFile = (arch: string, file = 'busybox'): string => path.join(dest, 'busybox', V, arch, file)

async function assertPublished(root: string, arch: 'amd64' | 'arm64', body: Buffer): Promise<void> {
  assert.deepEqual(await readFile(path.join(root, V, arch, 'busybox')), body)
  assert.equal(await readFile(path.join(root, V, arch, 'busybox.sha256'), 'utf8'), `${sha(body)}  busybox\n`)
}

async function assertNoTempFiles(): Promise<void> {
  assert.deepEqual(await listFiles(tmp), [], 'temp files left in TMPDIR')
}

function errorLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith('e2b-artifacts: error:'))
}

before(async () => {
  server = await startArtifactServer()
  amd64 = await busyboxBytes('amd64')
  arm64 = await busyboxBytes('arm64')
})

after(async () => {
  await server.close()
  await removeTempDirs()
})

beforeEach(async () => {
  server.clear()
  server.resetLog()
  tmp = await tempDir('upload-tmp')
  dest = await tempDir('upload-dest')
})

describe('upload from a GitHub release to a directory', () => {
  it('verifies and publishes both arches with their sidecars', async () => {
    release()
    const result = await upload(['--to', `file://${dest}`])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, '')
    await assertPublished(path.join(dest, 'busybox'), 'amd64', amd64)
    await assertPublished(path.join(dest, 'busybox'), 'arm64', arm64)
    assert.deepEqual(await listFiles(dest), [
      `busybox/${V}/amd64/busybox`,
      `busybox/${V}/amd64/busybox.sha256`,
      `busybox/${V}/arm64/busybox`,
      `busybox/${V}/arm64/busybox.sha256`,
    ])
    const lines = result.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 4, result.stderr)
    assert.match(lines[0]!, new RegExp(`^verified busybox ${V}/amd64 from github:${OWNER}/${REPO}@${TAG}/busybox_${TAG}_amd64 \\(1\\.9 MiB, sha256 ${sha(amd64).slice(0, 12)}…, matches SHA256SUMS and the GitHub API digest; ELF machine, static, version string, ran: BusyBox v${V} `))
    assert.match(lines[1]!, /^verified busybox .*\/arm64 .*not run: this host is amd64\)$/)
    assert.equal(lines[2], `published busybox ${V}/amd64 at ${destFile('amd64')} and its .sha256 (1.9 MiB, sha256 ${sha(amd64).slice(0, 12)}…, read back and verified)`)
    assert.match(lines[3]!, new RegExp(`^published busybox ${V}/arm64 at `))
    await assertNoTempFiles()
  })

  it('downloads assets through the API and the asset host, and SHA256SUMS once', async () => {
    release()
    assert.equal((await upload(['--to', dest])).code, 0)
    const gets = server.requests.filter((r) => r.method === 'GET')
    assert.equal(gets.filter((r) => r.path === `/api/repos/${OWNER}/${REPO}/releases/tags/${TAG}`).length, 1, 'one release lookup')
    for (const name of [assetName('amd64'), assetName('arm64'), 'SHA256SUMS']) {
      const assetGets = gets.filter((r) => r.host === 'assets' && r.path.endsWith(`/${name}`))
      assert.equal(assetGets.length, 1, `${name} downloaded once from the asset host`)
    }
    for (const request of gets.filter((r) => r.path.startsWith('/api/repos/') && r.path.includes('/releases/assets/'))) {
      assert.equal(request.headers.accept, 'application/octet-stream')
    }
  })

  it('writes nothing when run again: already published, exit 0', async () => {
    release()
    assert.equal((await upload(['--to', dest])).code, 0)
    const before = await Promise.all(['amd64', 'arm64'].flatMap((arch) => [destFile(arch), destFile(arch, 'busybox.sha256')].map((file) => stat(file))))
    const again = await upload(['--to', dest, '--json'])
    assert.equal(again.code, 0, again.stderr)
    const json = JSON.parse(again.stdout) as {arches: Array<{arch: string; status: string; writes: string[]; key: string; sha256: string; size: number}>}
    assert.deepEqual(
      json.arches.map((a) => [a.arch, a.status, a.writes, a.key, a.sha256, a.size]),
      [
        ['amd64', 'already-published', [], `busybox/${V}/amd64/busybox`, sha(amd64), amd64.length],
        ['arm64', 'already-published', [], `busybox/${V}/arm64/busybox`, sha(arm64), arm64.length],
      ],
    )
    const after = await Promise.all(['amd64', 'arm64'].flatMap((arch) => [destFile(arch), destFile(arch, 'busybox.sha256')].map((file) => stat(file))))
    assert.deepEqual(
      after.map((s) => [s.ino, s.mtimeMs]),
      before.map((s) => [s.ino, s.mtimeMs]),
      'nothing rewritten',
    )
    const text = await upload(['--to', dest])
    assert.match(text.stderr, new RegExp(`^busybox ${V}/amd64 is already published at ${destFile('amd64')} \\(sha256 `, 'm'))
    await assertNoTempFiles()
  })

  it('writes just the missing sidecar when the binary is already there', async () => {
    release()
    await mkdir(path.dirname(destFile('amd64')), {recursive: true})
    await writeFile(destFile('amd64'), amd64)
    const result = await upload(['--to', dest, '--arch', 'x86_64'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, new RegExp(`published busybox ${V}/amd64 at the missing sidecar ${destFile('amd64')}\\.sha256 \\(the binary was already there\\)`))
    await assertPublished(path.join(dest, 'busybox'), 'amd64', amd64)
    assert.deepEqual(await listFiles(dest), [`busybox/${V}/amd64/busybox`, `busybox/${V}/amd64/busybox.sha256`])
  })

  it('is a conflict (exit 5) when the destination holds a different binary, and writes nothing for any arch', async () => {
    release()
    await mkdir(path.dirname(destFile('amd64')), {recursive: true})
    await writeFile(destFile('amd64'), 'an older build')
    const result = await upload(['--to', dest])
    assert.equal(result.code, 5, result.stderr)
    assert.deepEqual(errorLines(result), [
      `e2b-artifacts: error: ${destFile('amd64')} already holds different content (14 bytes; publishing sha256 ${sha(amd64)}, ${amd64.length} bytes): nothing written; pass --force to replace it`,
    ])
    assert.deepEqual(await listFiles(dest), [`busybox/${V}/amd64/busybox`])
    assert.equal(await readFile(destFile('amd64'), 'utf8'), 'an older build')
    await assertNoTempFiles()
  })

  it('is a conflict when only a disagreeing sidecar exists', async () => {
    release()
    await mkdir(path.dirname(destFile('arm64')), {recursive: true})
    await writeFile(destFile('arm64', 'busybox.sha256'), `${sha('other')}  busybox\n`)
    const result = await upload(['--to', dest])
    assert.equal(result.code, 5, result.stderr)
    assert.match(errorLines(result)[0]!, new RegExp(`${destFile('arm64')}\\.sha256 says ${sha('other')}, not ${sha(arm64)}: nothing written`))
    assert.deepEqual(await listFiles(dest), [`busybox/${V}/arm64/busybox.sha256`])
  })

  it('--force replaces different content and says so', async () => {
    release()
    await mkdir(path.dirname(destFile('amd64')), {recursive: true})
    await writeFile(destFile('amd64'), 'an older build')
    await writeFile(destFile('amd64', 'busybox.sha256'), `${sha('an older build')}  busybox\n`)
    const result = await upload(['--to', dest, '--force'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, new RegExp(`^replaced busybox ${V}/amd64 at `, 'm'))
    assert.match(result.stderr, new RegExp(`^published busybox ${V}/arm64 at `, 'm'))
    await assertPublished(path.join(dest, 'busybox'), 'amd64', amd64)
    await assertPublished(path.join(dest, 'busybox'), 'arm64', arm64)
  })

  it('--dry-run checks everything and writes nothing', async () => {
    release()
    const result = await upload(['--to', dest, '--dry-run', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const json = JSON.parse(result.stdout) as {dryRun: boolean; arches: Array<{status: string; writes: string[]; checks: string[]; verifiedBy: string[]}>}
    assert.equal(json.dryRun, true)
    assert.deepEqual(json.arches.map((a) => a.status), ['would-publish', 'would-publish'])
    assert.deepEqual(json.arches[0]!.writes, [`busybox/${V}/amd64/busybox`, `busybox/${V}/amd64/busybox.sha256`])
    assert.deepEqual(json.arches[0]!.checks, ['elf-machine', 'static', 'version-string'])
    assert.deepEqual(json.arches[0]!.verifiedBy, ['SHA256SUMS', 'api-digest'])
    assert.deepEqual(await listFiles(dest), [])
    const text = await upload(['--to', dest, '--dry-run'])
    assert.match(text.stderr, new RegExp(`^would publish busybox ${V}/amd64 at ${destFile('amd64')} and its \\.sha256 \\(dry run: nothing written\\)$`, 'm'))
    assert.deepEqual(await listFiles(dest), [])
    await assertNoTempFiles()
  })

  it('--dry-run still reports a conflict (exit 5)', async () => {
    release()
    await mkdir(path.dirname(destFile('amd64')), {recursive: true})
    await writeFile(destFile('amd64'), 'an older build')
    assert.equal((await upload(['--to', dest, '--dry-run'])).code, 5)
  })

  it('finds assets named for a rebuild tag', async () => {
    const tag = `v${V}-20260401`
    release({tag})
    const result = await upload(['--to', dest, '--tag', tag, '--arch', 'arm64'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, new RegExp(`from github:${OWNER}/${REPO}@${tag}/busybox_${tag}_arm64 `))
    await assertPublished(path.join(dest, 'busybox'), 'arm64', arm64)
  })

  it('uses the env layout for an env bucket and honours --layout', async () => {
    release()
    const env = path.join(dest, 'staging-fc-busybox')
    assert.equal((await upload(['--to', env, '--arch', 'amd64'])).code, 0)
    await assertPublished(env, 'amd64', amd64)
    const forced = path.join(dest, 'anything')
    assert.equal((await upload(['--to', forced, '--arch', 'amd64', '--layout', 'env'])).code, 0)
    await assertPublished(forced, 'amd64', amd64)
  })

  it('retries transient failures of the API and the asset host', async () => {
    release()
    server.fault(`/api/repos/${OWNER}/${REPO}/releases/tags/${TAG}`, [{kind: 'status', status: 503}])
    server.fault(server.assetPath(OWNER, REPO, TAG, assetName('amd64')), [{kind: 'reset'}, {kind: 'truncate'}])
    const result = await upload(['--to', dest])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /retrying/)
    await assertPublished(path.join(dest, 'busybox'), 'amd64', amd64)
    await assertNoTempFiles()
  })
})

describe('upload: interruption', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`removes its staged files and publishes nothing when killed with ${signal} during a stalled download`, async () => {
      release()
      server.fault(server.assetPath(OWNER, REPO, TAG, assetName('amd64')), [{afterBytes: 100_000, kind: 'stall'}])
      const child = startCli(['upload', '--version', V, '--to', dest], {env: {...githubEnv(), E2B_ARTIFACTS_TIMEOUT_MS: '30000'}})
      for (let i = 0; i < 200 && (await listFiles(tmp)).length === 0; i++) await sleep(25)
      assert.notDeepEqual(await listFiles(tmp), [], 'a staged file exists while the download stalls')
      child.kill(signal)
      const result = await child.done
      assert.equal(result.code, signal === 'SIGTERM' ? 143 : 130, result.stderr)
      await assertNoTempFiles()
      assert.deepEqual(await listFiles(dest), [])
    })
  }
})

describe('upload: integrity failures (exit 3) publish nothing', () => {
  // Built lazily: the fixtures load in before().
  const cases: Array<[string, () => void, string[], () => RegExp]> = [
    [
      'a binary that disagrees with SHA256SUMS',
      () => release({sums: sumsFor({[assetName('amd64')]: Buffer.from('something else'), [assetName('arm64')]: arm64})}),
      [],
      () => new RegExp(`busybox_${TAG}_amd64 has sha256 ${sha(amd64)}, but github:${OWNER}/${REPO}@${TAG}/SHA256SUMS says ${sha('something else')}: not published`),
    ],
    [
      'a binary that disagrees with the API digest',
      () => release({amd64: {digest: `sha256:${sha('tampered')}`}}),
      [],
      () => new RegExp(`but the GitHub API digest of .*busybox_${TAG}_amd64 says ${sha('tampered')}: not published`),
    ],
    ['SHA256SUMS without an entry for the arch', () => release({sums: sumsFor({[assetName('amd64')]: amd64})}), [], () => new RegExp(`SHA256SUMS has no entry for busybox_${TAG}_arm64`)],
    ['a release without SHA256SUMS', () => release({sums: null}), [], () => /has no SHA256SUMS asset: refusing to publish binaries nothing vouches for/],
    ['a malformed SHA256SUMS', () => release({sums: '<html>oops</html>\n'}), [], () => /SHA256SUMS line 1 is malformed/],
    [
      'an arm64 binary under the amd64 name',
      () => release({amd64: {body: arm64}, sums: sumsFor({[assetName('amd64')]: arm64, [assetName('arm64')]: arm64})}),
      ['--arch', 'amd64'],
      () => new RegExp(`busybox_${TAG}_amd64 is built for aarch64, not amd64 \\(x86-64\\)`),
    ],
    [
      'the wrong version (1.35.0 published as 1.36.1)',
      () => {
        const tag = 'v1.36.1'
        server.addRelease({
          assets: [
            {body: amd64, name: assetName('amd64', tag)},
            {body: sumsFor({[assetName('amd64', tag)]: amd64}), name: 'SHA256SUMS'},
          ],
          owner: OWNER,
          repo: REPO,
          tag,
        })
      },
      ['--version', '1.36.1', '--arch', 'amd64'],
      () => new RegExp(`does not contain 'BusyBox v1\\.36\\.1': it is BusyBox ${V.replaceAll('.', '\\.')}; check --version and the source`),
    ],
  ]
  for (const [name, setUp, extra, message] of cases) {
    it(`rejects ${name}`, async () => {
      setUp()
      const result = await upload(['--to', dest, ...extra])
      assert.equal(result.code, 3, result.stderr)
      const errors = errorLines(result)
      assert.equal(errors.length, 1, result.stderr)
      assert.match(errors[0]!, message())
      assert.deepEqual(await listFiles(dest), [], 'nothing published')
      await assertNoTempFiles()
    })
  }

  it('rejects a dynamically linked binary (the host /bin/ls)', async () => {
    const ls = await readFile('/bin/ls')
    release({amd64: {body: ls}, sums: sumsFor({[assetName('amd64')]: ls, [assetName('arm64')]: arm64})})
    const result = await upload(['--to', dest])
    assert.equal(result.code, 3, result.stderr)
    assert.match(errorLines(result)[0]!, new RegExp(`busybox_${TAG}_amd64 is dynamically linked: it needs an ELF interpreter \\(PT_INTERP\\) and \\d+ shared librar(y|ies) \\(DT_NEEDED\\); publish a static build`))
    assert.match(result.stderr, /^warning: arm64 passed its checks but is held back: nothing is published unless every arch passes$/m)
    assert.deepEqual(await listFiles(dest), [])
    await assertNoTempFiles()
  })

  it('reports every failing arch on one line with the most severe exit code', async () => {
    release({arm64: null, sums: sumsFor({[assetName('amd64')]: Buffer.from('x')})})
    const result = await upload(['--to', dest])
    assert.equal(result.code, 3, result.stderr)
    const [line] = errorLines(result)
    assert.match(line!, /^e2b-artifacts: error: 2 of 2 arches failed verification; nothing was published: .*amd64 has sha256 .*; release .* has no asset busybox_v[\d.]+_arm64/)
  })
})

describe('upload: not found (exit 4)', () => {
  it('names a missing release tag', async () => {
    release()
    const result = await upload(['--to', dest, '--tag', 'v9.9.9'])
    assert.equal(result.code, 4, result.stderr)
    assert.deepEqual(errorLines(result), [
      `e2b-artifacts: error: release tag v9.9.9 not found in ${OWNER}/${REPO}: check --tag and --version (and set GITHUB_TOKEN for a private repository)`,
    ])
  })

  it('names a missing asset and lists what the release has', async () => {
    release({arm64: null})
    const result = await upload(['--to', dest])
    assert.equal(result.code, 4, result.stderr)
    assert.match(errorLines(result)[0]!, new RegExp(`has no asset busybox_${TAG}_arm64 \\(it has: busybox_${TAG}_amd64, SHA256SUMS\\)`))
    assert.deepEqual(await listFiles(dest), [])
  })
})

describe('upload: the GitHub token', () => {
  it('goes to the API only, never to the asset host, and never into any output', async () => {
    release()
    const env = {GITHUB_TOKEN: SENTINEL}
    const runs = [
      await upload(['--to', dest, '--verbose'], env),
      await upload(['--to', dest, '--verbose', '--json'], env),
      await upload(['--to', dest, '--verbose', '--tag', 'v0.0.0-missing'], env),
      await upload(['--to', path.join(dest, 'fresh'), '--dry-run', '--verbose'], {...env, DEBUG: '*'}),
    ]
    assert.deepEqual(runs.map((r) => r.code), [0, 0, 4, 0], runs.map((r) => r.stderr).join('\n'))
    for (const run of runs) {
      assert.ok(!run.stdout.includes(SENTINEL), 'token in stdout')
      assert.ok(!run.stderr.includes(SENTINEL), 'token in stderr')
    }
    assert.match(runs[2]!.stderr, /NotFoundError: release tag v0\.0\.0-missing not found/, '--verbose shows the stack')

    const api = server.requests.filter((r) => r.host === 'main' && r.path.startsWith('/api/'))
    assert.ok(api.length > 0)
    for (const request of api) assert.equal(request.headers.authorization, `Bearer ${SENTINEL}`, request.path)
    const assets = server.requests.filter((r) => r.host === 'assets')
    assert.ok(assets.length >= 3, 'assets were downloaded from the asset host')
    for (const request of assets) {
      assert.equal(request.headers.authorization, undefined, request.path)
      assert.ok(!JSON.stringify(request).includes(SENTINEL), `token reached the asset host: ${request.path}`)
    }
  })
})

describe('upload from a local build directory', () => {
  let builds: string

  beforeEach(async () => {
    builds = await tempDir('upload-builds')
    for (const [arch, body] of [['amd64', amd64], ['arm64', arm64]] as const) {
      await mkdir(path.join(builds, V, arch), {recursive: true})
      await writeFile(path.join(builds, V, arch, 'busybox'), body)
    }
  })

  it('publishes a build.sh output directory, warning that no sidecar vouches for it', async () => {
    const result = await upload(['--from', `file://${builds}`, '--to', dest])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, new RegExp(`^warning: ${builds}/${V}/amd64/busybox has no busybox\\.sha256 next to it: nothing independent vouches for its digest`, 'm'))
    assert.match(result.stderr, /no independent digest;/)
    await assertPublished(path.join(dest, 'busybox'), 'amd64', amd64)
    await assertPublished(path.join(dest, 'busybox'), 'arm64', arm64)
    assert.equal(server.requests.length, 0, 'no GitHub access')
    await assertNoTempFiles()
  })

  it('checks a sidecar next to the binary', async () => {
    await writeFile(path.join(builds, V, 'arm64', 'busybox.sha256'), `${sha(arm64)} *busybox\n`)
    await writeFile(path.join(builds, V, 'amd64', 'busybox.sha256'), `${sha('stale')}  busybox\n`)
    const result = await upload(['--from', builds, '--to', dest])
    assert.equal(result.code, 3, result.stderr)
    assert.match(errorLines(result)[0]!, new RegExp(`${builds}/${V}/amd64/busybox has sha256 ${sha(amd64)}, but ${builds}/${V}/amd64/busybox\\.sha256 says ${sha('stale')}: not published`))
    assert.match(result.stderr, /^verified busybox .*\/arm64 .*matches its \.sha256 sidecar;/m)
    assert.deepEqual(await listFiles(dest), [])
  })

  it('reports a missing build as not found (exit 4)', async () => {
    const result = await upload(['--from', builds, '--to', dest, '--version', '9.9.9', '--arch', 'amd64'])
    assert.equal(result.code, 4, result.stderr)
    assert.deepEqual(errorLines(result), [`e2b-artifacts: error: ${builds}/9.9.9/amd64/busybox not found: check --from, --version and --arch`])
  })
})

describe('upload: usage errors (exit 2) happen before any request', () => {
  const cases: Array<[string, string[]]> = [
    ['a missing --version', ['upload', '--to', '/tmp/x']],
    ['a bad version', ['upload', '--version', '../1', '--to', '/tmp/x']],
    ['a bad arch', ['upload', '--version', V, '--arch', 'mips', '--to', '/tmp/x']],
    ['a read-only destination', ['upload', '--version', V, '--to', 'https://storage.googleapis.com/bucket']],
    ['a bucket as the source', ['upload', '--version', V, '--from', 'gs://some-bucket', '--to', '/tmp/x']],
    ['--tag with a local source', ['upload', '--version', V, '--from', '/tmp', '--tag', 'v1', '--to', '/tmp/x']],
    ['a kernel without --from', ['upload', 'kernel', '--version', '6.1', '--to', '/tmp/x']],
    ['a plain-http GitHub API off loopback', ['upload', '--version', V, '--to', '/tmp/x']],
  ]
  for (const [name, args] of cases) {
    it(`rejects ${name}`, async () => {
      const env = name.includes('plain-http') ? {GITHUB_API_URL: 'http://api.github.example'} : {}
      const result = await runCli(args, {env: {...githubEnv(), ...env}})
      assert.equal(result.code, 2, result.stderr)
      assert.equal(errorLines(result).length, 1, result.stderr)
      assert.deepEqual(server.requests, [])
    })
  }
})

const run = promisify(execFile)
const KEYS = ['amd64', 'arm64'].flatMap((arch) => [`busybox/${V}/${arch}/busybox`, `busybox/${V}/${arch}/busybox.sha256`])

describe('upload to fake-gcs-server (gs://)', () => {
  let gcs: GcsServer
  let bucket: string

  interface GcsObject {
    generation: string
    size: string
    md5Hash: string
    metadata?: {sha256?: string}
  }

  const objectUrl = (name: string): string => `${gcs.endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`

  async function object(name: string): Promise<GcsObject | undefined> {
    const response = await fetch(objectUrl(name))
    if (response.status === 404) return undefined
    assert.equal(response.status, 200, await response.clone().text())
    return (await response.json()) as GcsObject
  }

  async function content(name: string): Promise<Buffer> {
    const response = await fetch(`${objectUrl(name)}?alt=media`)
    assert.equal(response.status, 200)
    return Buffer.from(await response.arrayBuffer())
  }

  async function put(name: string, body: string): Promise<void> {
    const response = await fetch(`${gcs.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`, {body, method: 'POST'})
    assert.equal(response.status, 200, await response.text())
  }

  async function generations(): Promise<Array<string | undefined>> {
    return Promise.all(KEYS.map(async (key) => (await object(key))?.generation))
  }

  const uploadTo = (...extra: string[]): Promise<CliResult> => upload(['--to', `gs://${bucket}`, ...extra], gcs.env)

  before(async () => {
    gcs = await gcsServer()
  })

  beforeEach(async () => {
    bucket = uniqueBucket('upload')
    await gcs.createBucket(bucket)
    release()
  })

  it('publishes both arches with sha256 metadata that matches each object', async () => {
    const result = await uploadTo()
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, new RegExp(`^published busybox ${V}/amd64 at gs://${bucket}/busybox/${V}/amd64/busybox and its \\.sha256`, 'm'))
    for (const [arch, body] of [['amd64', amd64], ['arm64', arm64]] as const) {
      const key = `busybox/${V}/${arch}/busybox`
      assert.deepEqual(await content(key), body)
      assert.equal(await content(`${key}.sha256`).then(String), `${sha(body)}  busybox\n`)
    }
    for (const key of KEYS) {
      const info = await object(key)
      assert.equal(info?.metadata?.sha256, sha(await content(key)), `${key} sha256 metadata`)
      assert.equal(info?.md5Hash, createHash('md5').update(await content(key)).digest('base64'), `${key} md5`)
    }
    await assertNoTempFiles()
  })

  it('serves files that plain curl and sha256sum -c accept', async () => {
    assert.equal((await uploadTo()).code, 0)
    for (const arch of ['amd64', 'arm64']) {
      const dir = await tempDir(`curl-${arch}`)
      for (const file of ['busybox', 'busybox.sha256']) {
        await run('curl', ['-fsS', '-o', path.join(dir, file), `${gcs.publicUrl}/${bucket}/busybox/${V}/${arch}/${file}`])
      }
      const {stdout} = await run('sha256sum', ['-c', 'busybox.sha256'], {cwd: dir})
      assert.equal(stdout, 'busybox: OK\n')
    }
  })

  it('writes nothing on a second run (generations unchanged)', async () => {
    assert.equal((await uploadTo()).code, 0)
    const before = await generations()
    assert.ok(before.every(Boolean))
    const again = await uploadTo()
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stderr, new RegExp(`^busybox ${V}/amd64 is already published at gs://${bucket}/busybox/${V}/amd64/busybox`, 'm'))
    assert.match(again.stderr, new RegExp(`^busybox ${V}/arm64 is already published at `, 'm'))
    assert.deepEqual(await generations(), before)
  })

  it('is a conflict (exit 5) that leaves the bucket untouched, and --force replaces', async () => {
    await put(`busybox/${V}/amd64/busybox`, 'an older build')
    const before = await object(`busybox/${V}/amd64/busybox`)
    const result = await uploadTo()
    assert.equal(result.code, 5, result.stderr)
    assert.match(errorLines(result)[0]!, new RegExp(`gs://${bucket}/busybox/${V}/amd64/busybox already holds different content .*pass --force to replace it`))
    assert.deepEqual(await object(`busybox/${V}/amd64/busybox`), before)
    assert.deepEqual(await generations().then((g) => g.slice(1)), [undefined, undefined, undefined], 'nothing else written')

    const forced = await uploadTo('--force')
    assert.equal(forced.code, 0, forced.stderr)
    assert.match(forced.stderr, /^replaced busybox .*\/amd64 at /m)
    assert.deepEqual(await content(`busybox/${V}/amd64/busybox`), amd64)
    assert.equal((await object(`busybox/${V}/amd64/busybox`))?.metadata?.sha256, sha(amd64))
  })

  it('--dry-run writes nothing', async () => {
    const result = await uploadTo('--dry-run')
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /^would publish busybox .*\/arm64 at /m)
    assert.deepEqual(await generations(), [undefined, undefined, undefined, undefined])
  })

  it('publishes at the root of an env bucket', async () => {
    const envBucket = `${uniqueBucket('e')}-fc-busybox`
    await gcs.createBucket(envBucket)
    const result = await upload(['--to', `gs://${envBucket}`, '--arch', 'arm64'], gcs.env)
    assert.equal(result.code, 0, result.stderr)
    const response = await fetch(`${gcs.endpoint}/storage/v1/b/${envBucket}/o/${encodeURIComponent(`${V}/arm64/busybox.sha256`)}?alt=media`)
    assert.equal(await response.text(), `${sha(arm64)}  busybox\n`)
  })
})

describe('upload to versitygw (s3://)', () => {
  let s3: S3Server
  let client: S3Client
  let bucket: string

  async function head(key: string): Promise<{etag?: string; modified?: number; sha256?: string} | undefined> {
    const {HeadObjectCommand} = await import('@aws-sdk/client-s3')
    try {
      const response = await client.send(new HeadObjectCommand({Bucket: bucket, Key: key}))
      return {etag: response.ETag, modified: response.LastModified?.getTime(), sha256: response.Metadata?.sha256}
    } catch (error) {
      if ((error as {name?: string}).name === 'NotFound') return undefined
      throw error
    }
  }

  async function content(key: string): Promise<Buffer> {
    const {GetObjectCommand} = await import('@aws-sdk/client-s3')
    const response = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}))
    return Buffer.from(await response.Body!.transformToByteArray())
  }

  async function put(key: string, body: string): Promise<void> {
    const {PutObjectCommand} = await import('@aws-sdk/client-s3')
    await client.send(new PutObjectCommand({Body: body, Bucket: bucket, Key: key}))
  }

  const uploadTo = (...extra: string[]): Promise<CliResult> => upload(['--to', `s3://${bucket}`, ...extra], s3.env)

  before(async () => {
    s3 = await s3Server()
    const {S3Client} = await import('@aws-sdk/client-s3')
    client = new S3Client({credentials: {accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey}, endpoint: s3.endpoint, forcePathStyle: true, region: s3.region})
  })

  after(() => {
    client.destroy()
  })

  beforeEach(async () => {
    bucket = uniqueBucket('upload')
    await s3.createBucket(bucket)
    release()
  })

  it('publishes both arches with sha256 metadata, and a re-run writes nothing', async () => {
    const result = await uploadTo()
    assert.equal(result.code, 0, result.stderr)
    for (const key of KEYS) {
      const info = await head(key)
      assert.equal(info?.sha256, sha(await content(key)), `${key} sha256 metadata`)
    }
    assert.deepEqual(await content(`busybox/${V}/arm64/busybox`), arm64)
    assert.equal(String(await content(`busybox/${V}/arm64/busybox.sha256`)), `${sha(arm64)}  busybox\n`)
    const before = await Promise.all(KEYS.map((key) => head(key)))
    const again = await uploadTo()
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stderr, new RegExp(`^busybox ${V}/amd64 is already published at s3://${bucket}/busybox/${V}/amd64/busybox`, 'm'))
    assert.deepEqual(await Promise.all(KEYS.map((key) => head(key))), before)
    await assertNoTempFiles()
  })

  it('is a conflict (exit 5) that writes nothing, and --force replaces', async () => {
    await put(`busybox/${V}/arm64/busybox`, 'an older build')
    const result = await uploadTo()
    assert.equal(result.code, 5, result.stderr)
    assert.equal(String(await content(`busybox/${V}/arm64/busybox`)), 'an older build')
    assert.equal(await head(`busybox/${V}/amd64/busybox`), undefined, 'amd64 held back too')
    const forced = await uploadTo('--force')
    assert.equal(forced.code, 0, forced.stderr)
    assert.deepEqual(await content(`busybox/${V}/arm64/busybox`), arm64)
    assert.equal((await head(`busybox/${V}/arm64/busybox`))?.sha256, sha(arm64))
  })
})

describe('upload to Azurite (az://)', () => {
  let azurite: AzuriteServer
  let container: string
  let client: ContainerClient

  async function properties(key: string): Promise<{etag?: string; md5?: string; sha256?: string} | undefined> {
    try {
      const response = await client.getBlockBlobClient(key).getProperties()
      return {etag: response.etag, md5: response.contentMD5 && Buffer.from(response.contentMD5).toString('base64'), sha256: response.metadata?.sha256}
    } catch (error) {
      if ((error as {statusCode?: number}).statusCode === 404) return undefined
      throw error
    }
  }

  const content = async (key: string): Promise<Buffer> => client.getBlockBlobClient(key).downloadToBuffer()
  const uploadTo = (...extra: string[]): Promise<CliResult> => upload(['--to', `az://${azurite.account}/${container}`, ...extra], azurite.env)

  before(async () => {
    azurite = await azuriteServer()
  })

  beforeEach(async () => {
    container = uniqueBucket('upload')
    await azurite.createContainer(container)
    const {BlobServiceClient} = await import('@azure/storage-blob')
    client = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(container)
    release()
  })

  it('publishes both arches with sha256 metadata and the service MD5 of each blob, and a re-run writes nothing', async () => {
    const result = await uploadTo()
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, new RegExp(`^published busybox ${V}/amd64 at az://${azurite.account}/${container}/busybox/${V}/amd64/busybox and its \\.sha256`, 'm'))
    for (const key of KEYS) {
      const body = await content(key)
      const info = await properties(key)
      assert.equal(info?.sha256, sha(body), `${key} sha256 metadata`)
      assert.equal(info?.md5, createHash('md5').update(body).digest('base64'), `${key} Content-MD5`)
    }
    assert.deepEqual(await content(`busybox/${V}/amd64/busybox`), amd64)
    assert.equal(String(await content(`busybox/${V}/arm64/busybox.sha256`)), `${sha(arm64)}  busybox\n`)
    const before = await Promise.all(KEYS.map((key) => properties(key)))
    const again = await uploadTo()
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stderr, new RegExp(`^busybox ${V}/amd64 is already published at az://${azurite.account}/${container}/busybox/${V}/amd64/busybox`, 'm'))
    assert.deepEqual(await Promise.all(KEYS.map((key) => properties(key))), before, 'no blob rewritten (ETags unchanged)')
    await assertNoTempFiles()
  })

  it('is a conflict (exit 5) that writes nothing, and --force replaces', async () => {
    await client.getBlockBlobClient(`busybox/${V}/arm64/busybox`).upload('an older build', 14)
    const result = await uploadTo()
    assert.equal(result.code, 5, result.stderr)
    assert.equal(String(await content(`busybox/${V}/arm64/busybox`)), 'an older build')
    assert.equal(await properties(`busybox/${V}/amd64/busybox`), undefined, 'amd64 held back too')
    const forced = await uploadTo('--force')
    assert.equal(forced.code, 0, forced.stderr)
    assert.deepEqual(await content(`busybox/${V}/arm64/busybox`), arm64)
    assert.equal((await properties(`busybox/${V}/arm64/busybox`))?.sha256, sha(arm64))
  })

  it('publishes at the root of an env container (fc-busybox)', async () => {
    const env = `${uniqueBucket('env')}-fc-busybox`
    await azurite.createContainer(env)
    const result = await upload(['--to', `az://${azurite.account}/${env}`, '--arch', 'amd64'], azurite.env)
    assert.equal(result.code, 0, result.stderr)
    const {BlobServiceClient} = await import('@azure/storage-blob')
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(env).getBlockBlobClient(`${V}/amd64/busybox`)
    assert.deepEqual(await blob.downloadToBuffer(), amd64)
  })
})
