/**
 * The lock file (issue 11): `lock` pins digests that every independent source
 * agrees on, for binaries that pass upload's checks; `fetch` treats an entry
 * as a pin, so a bucket whose binary and sidecar were both replaced cannot
 * ship a binary; `verify --lock` and `copy-public-builds --lock` check against
 * it. Against the GitHub release stand-in (test/support/github-routes.ts),
 * fake-gcs-server (gs:// and the anonymous https://storage.googleapis.com/
 * view) and the loopback artifact server.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {type ArtifactServer, type ReleaseAssetSpec, startArtifactServer} from '../support/artifact-server.js'
import {type CliResult, runCli} from '../support/cli.js'
import {type GcsServer, gcsServer, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {ensureBucket, putRawObject} from '../support/gcs-objects.js'
import {listFiles, removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const OWNER = 'e2b-dev'
const REPO = 'fc-busybox'
const TAG = `v${V}`
const LOCK = 'e2b-artifacts.lock'
/** A second busybox version: the fixture with its banner patched (same length), so the version-string check holds for it. */
const V2 = V.replace(/\.(\d+)$/, (_, last: string) => `.${(Number(last) + 9) % 10}`)
const K1 = 'vmlinux-6.1.102'
const K2 = 'vmlinux-6.1.158'
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

interface Entry {
  arch: string
  artifact: string
  file: string
  lockedAt: string
  sha256: string
  size: number
  source: string
  version: string
}

let server: ArtifactServer
let gcs: GcsServer
let amd64: Buffer
let arm64: Buffer
let amd64v2: Buffer
let arm64v2: Buffer
/** An amd64 ELF that is not the fixture: what someone with write access to a bucket puts there. */
let tampered: Buffer
/** TMPDIR of the CLI under test: must be empty after every run. */
let tmp: string

function patchVersion(binary: Buffer, from: string, to: string): Buffer {
  const find = Buffer.from(`BusyBox v${from} `)
  const patched = Buffer.from(binary)
  let count = 0
  for (let at = patched.indexOf(find); at !== -1; at = patched.indexOf(find, at + 1)) {
    patched.write(`BusyBox v${to} `, at, 'latin1')
    count++
  }
  assert.ok(count > 0, 'the fixture has a banner to patch')
  return patched
}

before(async () => {
  ;[server, gcs, amd64, arm64] = await Promise.all([startArtifactServer(), gcsServer(), busyboxBytes('amd64'), busyboxBytes('arm64')])
  amd64v2 = patchVersion(amd64, V, V2)
  arm64v2 = patchVersion(arm64, V, V2)
  tampered = Buffer.concat([amd64, Buffer.from('\0tampered\0')])
})

after(async () => {
  await server.close()
  await removeTempDirs()
})

beforeEach(async () => {
  server.clear()
  server.resetLog()
  tmp = await tempDir('lock-tmp')
})

/** The CLI in `cwd`, seeing the GitHub stand-in and fake-gcs-server (for gs:// and the anonymous view). */
function cli(cwd: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, {cwd, env: {...gcs.env, GITHUB_API_URL: `${server.url}/api`, GITHUB_SERVER_URL: server.url, TMPDIR: tmp, ...env}, timeoutMs: 90_000})
}

function errorLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith('e2b-artifacts: error:'))
}

function json<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}

async function readLock(dir: string, name = LOCK): Promise<{entries: Entry[]; lockfileVersion: number}> {
  return JSON.parse(await readFile(path.join(dir, name), 'utf8')) as {entries: Entry[]; lockfileVersion: number}
}

/** The text the lock file must have: keys sorted at every level, two-space indent, a trailing newline. */
function canonical(document: {entries: Entry[]; lockfileVersion: number}): string {
  const sortKeys = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sortKeys)
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, inner]) => [key, sortKeys(inner)]))
    return value
  }
  return `${JSON.stringify(sortKeys(document), null, 2)}\n`
}

async function assertNoTempFiles(): Promise<void> {
  assert.deepEqual(await listFiles(tmp), [], 'temp files left in TMPDIR')
}

/** A release as fc-busybox's workflow publishes it, with optional replacements. */
function release(overrides: {amd64?: Partial<ReleaseAssetSpec>; arm64?: Partial<ReleaseAssetSpec>; sums?: string; version?: string; bodies?: [Buffer, Buffer]} = {}): void {
  const version = overrides.version ?? V
  const tag = `v${version}`
  const [bodyAmd64, bodyArm64] = overrides.bodies ?? [amd64, arm64]
  const name = (arch: string): string => `busybox_${tag}_${arch}`
  const sums = overrides.sums ?? `${sha(bodyAmd64)}  ${name('amd64')}\n${sha(bodyArm64)}  ${name('arm64')}\n`
  server.addRelease({
    assets: [
      {body: bodyAmd64, name: name('amd64'), ...overrides.amd64},
      {body: bodyArm64, name: name('arm64'), ...overrides.arm64},
      {body: sums, name: 'SHA256SUMS'},
    ],
    owner: OWNER,
    repo: REPO,
    tag,
  })
}

/** A public bucket in fake-gcs-server as upstream fills it (`gsutil cp`: no sha256 metadata, GCS's own md5 and crc32c). */
async function seedBucket(objects: Record<string, Buffer>): Promise<string> {
  const bucket = uniqueBucket('lock')
  await ensureBucket(gcs, bucket)
  for (const [key, body] of Object.entries(objects)) await putRawObject(gcs, bucket, key, body)
  return bucket
}

function busyboxObjects(version: string, bodies: {amd64: Buffer; arm64: Buffer}): Record<string, Buffer> {
  const objects: Record<string, Buffer> = {}
  for (const arch of ['amd64', 'arm64'] as const) {
    objects[`busybox/${version}/${arch}/busybox`] = bodies[arch]
    objects[`busybox/${version}/${arch}/busybox.sha256`] = Buffer.from(`${sha(bodies[arch])}  busybox\n`)
  }
  return objects
}

/** Replaces the amd64 busybox and its sidecar together, consistently: the sidecar alone cannot tell. */
async function tamper(bucket: string, version = V): Promise<void> {
  await putRawObject(gcs, bucket, `busybox/${version}/amd64/busybox`, tampered)
  await putRawObject(gcs, bucket, `busybox/${version}/amd64/busybox.sha256`, `${sha(tampered)}  busybox\n`)
}

const view = (bucket: string): string => `https://storage.googleapis.com/${bucket}`

describe('lock from the GitHub release', () => {
  it('pins both arches with the logical source, in canonical form, after upload\'s checks', async () => {
    release()
    const dir = await tempDir('lock-github')
    const result = await cli(dir, ['lock', 'busybox', '--version', V])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stdout, '')
    const lock = await readLock(dir)
    assert.equal(lock.lockfileVersion, 1)
    assert.deepEqual(
      lock.entries.map(({lockedAt: _at, ...rest}) => rest),
      [
        {arch: 'amd64', artifact: 'busybox', file: 'busybox', sha256: sha(amd64), size: amd64.length, source: `github:${OWNER}/${REPO}@${TAG}`, version: V},
        {arch: 'arm64', artifact: 'busybox', file: 'busybox', sha256: sha(arm64), size: arm64.length, source: `github:${OWNER}/${REPO}@${TAG}`, version: V},
      ],
    )
    assert.match(lock.entries[0]!.lockedAt, ISO)
    const text = await readFile(path.join(dir, LOCK), 'utf8')
    assert.equal(text, canonical(lock))
    assert.ok(!text.includes('127.0.0.1') && !text.includes(new URL(server.url).port), 'no endpoint or port is recorded')
    const lines = result.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 3, result.stderr)
    assert.match(lines[0]!, new RegExp(`^locked busybox ${V}/amd64/busybox from github:${OWNER}/${REPO}@${TAG} \\(1\\.9 MiB, sha256 ${sha(amd64).slice(0, 12)}…, matches SHA256SUMS and the GitHub API digest; ELF machine, static, version string, `))
    assert.match(lines[1]!, new RegExp(`^locked busybox ${V}/arm64/busybox .*not run: this host is amd64\\)$`))
    assert.equal(lines[2], `wrote ${LOCK}: 2 added, 0 re-pinned, 0 unchanged`)
    await assertNoTempFiles()
  })

  it('writes nothing when SHA256SUMS or the API digest disagrees with the asset (exit 3), and an existing lock stays as it was', async () => {
    const dir = await tempDir('lock-disagree')
    release({arm64: {digest: `sha256:${sha('something else')}`}})
    const apiDigest = await cli(dir, ['lock', 'busybox', '--version', V])
    assert.equal(apiDigest.code, 3, apiDigest.stderr)
    assert.deepEqual(errorLines(apiDigest), [
      `e2b-artifacts: error: github:${OWNER}/${REPO}@${TAG}/busybox_${TAG}_arm64 has sha256 ${sha(arm64)}, but the GitHub API digest of github:${OWNER}/${REPO}@${TAG}/busybox_${TAG}_arm64 says ${sha('something else')}: not locked`,
    ])
    assert.deepEqual(await listFiles(dir), [], 'no lock file written')

    release()
    assert.equal((await cli(dir, ['lock', 'busybox', '--version', V, '--arch', 'amd64'])).code, 0)
    const before = await readFile(path.join(dir, LOCK))
    release({sums: `${sha('other')}  busybox_${TAG}_amd64\n${sha(arm64)}  busybox_${TAG}_arm64\n`})
    const sums = await cli(dir, ['lock', 'busybox', '--version', V])
    assert.equal(sums.code, 3, sums.stderr)
    assert.match(errorLines(sums)[0]!, new RegExp(`busybox_${TAG}_amd64 has sha256 ${sha(amd64)}, but github:${OWNER}/${REPO}@${TAG}/SHA256SUMS says ${sha('other')}: not locked`))
    assert.deepEqual(await readFile(path.join(dir, LOCK)), before, 'the lock is byte-identical: arm64 passed, but nothing is written unless everything does')
    await assertNoTempFiles()
  })

  it('refuses a binary that fails upload\'s checks: the wrong version string (exit 3)', async () => {
    release({bodies: [amd64v2, arm64v2]})
    const dir = await tempDir('lock-version')
    const result = await cli(dir, ['lock', 'busybox', '--version', V])
    assert.equal(result.code, 3, result.stderr)
    assert.match(errorLines(result)[0]!, new RegExp(`does not contain 'BusyBox v${V.replaceAll('.', '\\.')}': it is BusyBox ${V2.replaceAll('.', '\\.')}`))
    assert.deepEqual(await listFiles(dir), [])
  })
})

describe('lock from a bucket', () => {
  it('pins kernels and their companions from the public bucket\'s anonymous view, recorded as gs://, verified by the service\'s checksums', async () => {
    const kernel = randomBytes(300_000)
    const debug = randomBytes(120_000)
    const flat = randomBytes(200_000)
    const bucket = await seedBucket({[`kernels/${K2}/amd64/vmlinux.bin`]: kernel, [`kernels/${K2}/amd64/vmlinux.debug`]: debug, [`kernels/${K1}/vmlinux.bin`]: flat})
    const dir = await tempDir('lock-bucket')
    // No --from: the public bucket (E2B_ARTIFACTS_PUBLIC_BUCKET), read anonymously through the emulator.
    const env = {E2B_ARTIFACTS_PUBLIC_BUCKET: bucket}
    const result = await cli(dir, ['lock', 'kernel', '--version', K2, '--arch', 'amd64', '--json'], env)
    assert.equal(result.code, 0, result.stderr)
    const report = json<{from: string; written: boolean; files: Array<{file: string; status: string; verifiedBy: string[]; source: string}>}>(result)
    assert.equal(report.written, true)
    assert.deepEqual(
      report.files.map((f) => [f.file, f.status, f.verifiedBy, f.source]),
      [
        ['vmlinux.bin', 'added', ['service-checksum'], `gs://${bucket}/kernels/${K2}/amd64/vmlinux.bin`],
        ['vmlinux.debug', 'added', ['service-checksum'], `gs://${bucket}/kernels/${K2}/amd64/vmlinux.debug`],
      ],
    )
    // The legacy flat layout: {version}/{file}, amd64.
    assert.equal((await cli(dir, ['lock', 'kernel', '--version', K1, '--arch', 'amd64'], env)).code, 0)
    const lock = await readLock(dir)
    assert.deepEqual(
      lock.entries.map((e) => [e.artifact, e.version, e.arch, e.file, e.sha256, e.size, e.source]),
      [
        ['kernel', K1, 'amd64', 'vmlinux.bin', sha(flat), flat.length, `gs://${bucket}/kernels/${K1}/vmlinux.bin`],
        ['kernel', K2, 'amd64', 'vmlinux.bin', sha(kernel), kernel.length, `gs://${bucket}/kernels/${K2}/amd64/vmlinux.bin`],
        ['kernel', K2, 'amd64', 'vmlinux.debug', sha(debug), debug.length, `gs://${bucket}/kernels/${K2}/amd64/vmlinux.debug`],
      ],
    )
    const text = await readFile(path.join(dir, LOCK), 'utf8')
    assert.ok(!text.includes('127.0.0.1') && !text.includes('storage.googleapis.com') && !text.includes(new URL(gcs.endpoint).port), text)

    // An arch the bucket does not hold: not found, and nothing written.
    const missing = await cli(dir, ['lock', 'kernel', '--version', K2], env)
    assert.equal(missing.code, 4, missing.stderr)
    assert.match(errorLines(missing)[0]!, new RegExp(`kernel ${K2}/arm64 not found at `))
    assert.equal(await readFile(path.join(dir, LOCK), 'utf8'), text)
    await assertNoTempFiles()
  })

  it('pins busybox from gs:// by its sidecar and the service\'s checksum, and a sidecar that disagrees is exit 3 with nothing written', async () => {
    const bucket = await seedBucket(busyboxObjects(V, {amd64, arm64}))
    const dir = await tempDir('lock-gs')
    const result = await cli(dir, ['lock', 'busybox', '--version', V, '--from', `gs://${bucket}`, '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(
      json<{files: Array<{arch: string; verifiedBy: string[]; source: string; checks: string[]}>}>(result).files.map((f) => [f.arch, f.verifiedBy, f.source, f.checks]),
      [
        ['amd64', ['sidecar', 'service-checksum'], `gs://${bucket}/busybox/${V}/amd64/busybox`, ['elf-machine', 'static', 'version-string']],
        ['arm64', ['sidecar', 'service-checksum'], `gs://${bucket}/busybox/${V}/arm64/busybox`, ['elf-machine', 'static', 'version-string']],
      ],
    )
    await putRawObject(gcs, bucket, `busybox/${V}/arm64/busybox.sha256`, `${sha('other')}  busybox\n`)
    const other = await tempDir('lock-gs-bad')
    const bad = await cli(other, ['lock', 'busybox', '--version', V, '--from', `gs://${bucket}`])
    assert.equal(bad.code, 3, bad.stderr)
    assert.deepEqual(errorLines(bad), [`e2b-artifacts: error: gs://${bucket}/busybox/${V}/arm64/busybox has sha256 ${sha(arm64)}, but gs://${bucket}/busybox/${V}/arm64/busybox.sha256 says ${sha('other')}: not locked`])
    assert.deepEqual(await listFiles(other), [])
    await assertNoTempFiles()
  })

  it('records a directory as file: and its path relative to the lock file', async () => {
    const root = await tempDir('lock-dir')
    const mirror = path.join(root, 'mirror')
    for (const [key, body] of Object.entries(busyboxObjects(V, {amd64, arm64}))) {
      await mkdir(path.dirname(path.join(mirror, key)), {recursive: true})
      await writeFile(path.join(mirror, key), body)
    }
    const repo = path.join(root, 'repo')
    await mkdir(path.join(repo, 'sub'), {recursive: true})
    await writeFile(path.join(repo, LOCK), '{\n  "entries": [],\n  "lockfileVersion": 1\n}\n')
    // Run from a subdirectory: the lock is found above it, and sources are relative to it, not to the working directory.
    const result = await cli(path.join(repo, 'sub'), ['lock', 'busybox', '--version', V, '--from', mirror, '--arch', 'arm64'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual((await readLock(repo)).entries.map((e) => e.source), [`file:../mirror/busybox/${V}/arm64/busybox`])
    assert.match(result.stderr, /^wrote \.\.\/e2b-artifacts\.lock: 1 added/m)
  })

  it('refuses a mirror URL as --from: its address is not a name the lock can record (exit 2)', async () => {
    const dir = await tempDir('lock-mirror')
    const result = await cli(dir, ['lock', 'busybox', '--version', V, '--from', `${server.url}/public-builds`])
    assert.equal(result.code, 2, result.stderr)
    assert.match(errorLines(result)[0]!, /a mirror's URL is not one: lock from github:owner\/repo, gs:\/\/, s3:\/\/, az:\/\/, https:\/\/storage\.googleapis\.com\/BUCKET or a directory$/)
    assert.deepEqual(server.requests, [])
  })
})

describe('fetch with a lock: a tampered bucket cannot ship a binary', () => {
  it('refuses a binary and sidecar replaced together (exit 3, nothing at --out); without the lock the same fetch installs them', async () => {
    const bucket = await seedBucket(busyboxObjects(V, {amd64, arm64}))
    const repo = await tempDir('tamper-repo')
    assert.equal((await cli(repo, ['lock', 'busybox', '--version', V, '--from', view(bucket)])).code, 0)
    const lockBefore = await readFile(path.join(repo, LOCK))
    await tamper(bucket)

    const fetch = (cwd: string, ...extra: string[]): Promise<CliResult> => cli(cwd, ['fetch', '--version', V, '--arch', 'amd64', '--from', view(bucket), '--out', 'bin/busybox', ...extra])
    for (const env of [{}, {E2B_ARTIFACTS_FAST_PATH: '0'}]) {
      const refused = await runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', view(bucket), '--out', 'bin/busybox'], {cwd: repo, env: {...gcs.env, TMPDIR: tmp, ...env}})
      assert.equal(refused.code, 3, refused.stderr)
      assert.deepEqual(errorLines(refused), [
        `e2b-artifacts: error: sidecar ${view(bucket)}/busybox/${V}/amd64/busybox.sha256 says ${sha(tampered)}, but ${LOCK} pins ${sha(amd64)}: not installed; if the bucket holds a new build on purpose, review it and re-pin it with e2b-artifacts lock busybox --version ${V} --arch amd64 --update`,
      ])
      assert.deepEqual(await listFiles(repo), [LOCK], 'nothing at --out, and no temp file')
    }
    // From a subdirectory, the lock above is found, and named as the path to it.
    await mkdir(path.join(repo, 'sub'))
    const below = await fetch(path.join(repo, 'sub'))
    assert.equal(below.code, 3, below.stderr)
    assert.match(errorLines(below)[0]!, new RegExp(`but \\.\\./${LOCK.replace('.', '\\.')} pins ${sha(amd64)}`))

    const elsewhere = await tempDir('tamper-nolock')
    const unlocked = await fetch(elsewhere)
    assert.equal(unlocked.code, 0, unlocked.stderr)
    assert.deepEqual(await readFile(path.join(elsewhere, 'bin/busybox')), tampered, 'the sidecar alone vouches for the tampered binary')
    const ignored = await fetch(repo, '--no-lock')
    assert.equal(ignored.code, 0, ignored.stderr)
    assert.deepEqual(await readFile(path.join(repo, 'bin/busybox')), tampered)
    assert.deepEqual(await readFile(path.join(repo, LOCK)), lockBefore)
    await assertNoTempFiles()
  })

  it('--lock PATH and E2B_ARTIFACTS_LOCK name the lock; --lock wins over the variable', async () => {
    const bucket = await seedBucket(busyboxObjects(V, {amd64, arm64}))
    const locks = await tempDir('tamper-locks')
    assert.equal((await cli(locks, ['lock', 'busybox', '--version', V, '--from', view(bucket), '--lock', 'pinned.lock', '--arch', 'amd64'])).code, 0)
    await writeFile(path.join(locks, 'empty.lock'), '{"entries": [], "lockfileVersion": 1}\n')
    await tamper(bucket)
    const dir = await tempDir('tamper-named')
    const args = ['fetch', '--version', V, '--arch', 'amd64', '--from', view(bucket), '--out', 'busybox']
    const pinned = path.join(locks, 'pinned.lock')
    const byFlag = await cli(dir, [...args, '--lock', pinned])
    assert.equal(byFlag.code, 3, byFlag.stderr)
    assert.match(errorLines(byFlag)[0]!, new RegExp(`but ${pinned} pins ${sha(amd64)}`))
    const byVariable = await cli(dir, args, {E2B_ARTIFACTS_LOCK: pinned})
    assert.equal(byVariable.code, 3, byVariable.stderr)
    const flagWins = await cli(dir, [...args, '--lock', path.join(locks, 'empty.lock'), '--quiet'], {E2B_ARTIFACTS_LOCK: pinned})
    assert.equal(flagWins.code, 0, flagWins.stderr)
    assert.equal(flagWins.stderr, '', '--quiet keeps the no-entry warning off stderr')
  })

  it('pins the up-to-date check too: a local copy that matches its sidecar but not the lock is fetched again, with no request when it matches', async () => {
    release()
    const repo = await tempDir('uptodate-repo')
    assert.equal((await cli(repo, ['lock', 'busybox', '--version', V, '--arch', 'amd64'])).code, 0)
    server.put(`/public-builds/busybox/${V}/amd64/busybox`, amd64)
    server.put(`/public-builds/busybox/${V}/amd64/busybox.sha256`, `${sha(amd64)}  busybox\n`)
    const from = `${server.url}/public-builds`
    // A binary installed before the lock existed, with a sidecar that matches it.
    await mkdir(path.join(repo, 'bin'))
    await writeFile(path.join(repo, 'bin/busybox'), tampered, {mode: 0o755})
    await writeFile(path.join(repo, 'bin/busybox.sha256'), `${sha(tampered)}  busybox\n`)
    server.resetLog()
    const fetch = (...extra: string[]): Promise<CliResult> => cli(repo, ['fetch', '--version', V, '--arch', 'amd64', '--from', from, '--out', 'bin/busybox', ...extra])
    const repaired = await fetch('--json')
    assert.equal(repaired.code, 0, repaired.stderr)
    assert.deepEqual(json<{status: string; verifiedBy: string[]}>(repaired), {...json<object>(repaired), status: 'fetched', verifiedBy: ['sidecar', 'lock']})
    assert.deepEqual(await readFile(path.join(repo, 'bin/busybox')), amd64)
    server.resetLog()
    const again = await fetch('--json', '--sha256', sha(amd64))
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual([json<{status: string}>(again).status, json<{verifiedBy: string[]}>(again).verifiedBy], ['up-to-date', ['sidecar', 'pin', 'lock']])
    assert.deepEqual(server.requests, [], 'an up-to-date fetch with a lock makes no request')

    // A --sha256 that disagrees with the lock is refused before anything else, naming both.
    const contradicted = await fetch('--sha256', sha(tampered))
    assert.equal(contradicted.code, 3, contradicted.stderr)
    assert.deepEqual(errorLines(contradicted), [
      `e2b-artifacts: error: --sha256 pins ${sha(tampered)}, but ${LOCK} pins ${sha(amd64)} for busybox ${V}/amd64/busybox: drop --sha256, or correct whichever is wrong`,
    ])
    assert.deepEqual(server.requests, [])
  })
})

describe('fetch: a lock entry for another arch or version pins nothing', () => {
  it('warns (unless --quiet), and with --locked exits 3 and writes nothing', async () => {
    release()
    const repo = await tempDir('other-arch')
    assert.equal((await cli(repo, ['lock', 'busybox', '--version', V, '--arch', 'amd64'])).code, 0)
    server.put(`/public-builds/busybox/${V}/arm64/busybox`, arm64)
    server.put(`/public-builds/busybox/${V}/arm64/busybox.sha256`, `${sha(arm64)}  busybox\n`)
    const fetch = (...extra: string[]): Promise<CliResult> => cli(repo, ['fetch', '--version', V, '--arch', 'arm64', '--from', `${server.url}/public-builds`, '--out', 'bin/busybox', ...extra])
    const missing = `${LOCK} has no entry for busybox ${V}/arm64/busybox`

    const locked = await fetch('--locked')
    assert.equal(locked.code, 3, locked.stderr)
    assert.deepEqual(errorLines(locked), [`e2b-artifacts: error: ${missing}, and --locked refuses what the lock does not pin: add it with e2b-artifacts lock busybox --version ${V} --arch arm64`])
    assert.deepEqual(await listFiles(repo), [LOCK])

    const warning = `warning: ${missing}: fetched without a lock pin; add it with e2b-artifacts lock busybox --version ${V} --arch arm64`
    const warned = await fetch()
    assert.equal(warned.code, 0, warned.stderr)
    // Once, though the up-to-date check that ran first read the lock too (cli/up-to-date-path.ts).
    const [first, second, ...rest] = warned.stderr.split('\n')
    assert.deepEqual([first, rest], [warning, ['']])
    assert.match(second!, new RegExp(`^fetched busybox ${V}/arm64 to bin/busybox \\(.*, verified by sidecar\\) from `))
    assert.deepEqual(await readFile(path.join(repo, 'bin/busybox')), arm64)
    const upToDate = await fetch()
    assert.equal(upToDate.code, 0, upToDate.stderr)
    assert.deepEqual(upToDate.stderr, `${warning}\nbusybox ${V}/arm64 is up to date at bin/busybox (sha256 ${sha(arm64).slice(0, 12)}…)\n`)
    const quiet = await fetch('--quiet', '--force')
    assert.equal(quiet.code, 0)
    assert.equal(quiet.stderr, '')

    // Another version is no entry either.
    const other = await cli(repo, ['fetch', '--version', V2, '--arch', 'amd64', '--from', `${server.url}/public-builds`, '--out', 'v2/busybox', '--locked'])
    assert.equal(other.code, 3, other.stderr)
    assert.match(errorLines(other)[0]!, new RegExp(`${LOCK} has no entry for busybox ${V2}/amd64/busybox, and --locked`))
    // --locked where there is no lock file at all.
    const bare = await tempDir('no-lock-at-all')
    const none = await cli(bare, ['fetch', '--version', V, '--arch', 'arm64', '--from', `${server.url}/public-builds`, '--locked'])
    assert.equal(none.code, 3, none.stderr)
    assert.match(errorLines(none)[0]!, new RegExp(`--locked: no ${LOCK} in .* or above it, and none named by --lock or E2B_ARTIFACTS_LOCK: create one with e2b-artifacts lock busybox --version ${V} --arch arm64$`))
    assert.deepEqual(await listFiles(bare), [])
  })
})

describe('lock: stable entries, re-runs, --check and --update', () => {
  it('two artifacts at two versions: sorted entries in any order of runs, and a re-run leaves the file byte-identical', async () => {
    const kernels = {[`kernels/${K1}/amd64/vmlinux.bin`]: randomBytes(50_000), [`kernels/${K2}/amd64/vmlinux.bin`]: randomBytes(60_000)}
    const bucket = await seedBucket({...busyboxObjects(V, {amd64, arm64}), ...busyboxObjects(V2, {amd64: amd64v2, arm64: arm64v2}), ...kernels})
    const runs = [
      ['lock', 'busybox', '--version', V2, '--from', `gs://${bucket}`],
      ['lock', 'kernel', '--version', K2, '--arch', 'amd64', '--from', `gs://${bucket}`],
      ['lock', 'busybox', '--version', V, '--from', `gs://${bucket}`],
      ['lock', 'kernel', '--version', K1, '--arch', 'amd64', '--from', `gs://${bucket}`],
    ]
    const forward = await tempDir('stable-forward')
    const backward = await tempDir('stable-backward')
    for (const args of runs) assert.equal((await cli(forward, args)).code, 0)
    for (const args of [...runs].reverse()) assert.equal((await cli(backward, args)).code, 0)
    const slots = (await readLock(forward)).entries.map((e) => `${e.artifact} ${e.version}/${e.arch}/${e.file}`)
    assert.deepEqual(slots, [
      `busybox ${V}/amd64/busybox`,
      `busybox ${V}/arm64/busybox`,
      `busybox ${V2}/amd64/busybox`,
      `busybox ${V2}/arm64/busybox`,
      `kernel ${K1}/amd64/vmlinux.bin`,
      `kernel ${K2}/amd64/vmlinux.bin`,
    ])
    const withoutTimes = async (dir: string): Promise<string> => (await readFile(path.join(dir, LOCK), 'utf8')).replaceAll(/"lockedAt": "[^"]+"/g, '"lockedAt": "…"')
    assert.equal(await withoutTimes(forward), await withoutTimes(backward), 'the same entries, whatever the order they were added in')

    const before = await readFile(path.join(forward, LOCK))
    const info = await stat(path.join(forward, LOCK))
    for (const args of runs) {
      const again = await cli(forward, args)
      assert.equal(again.code, 0, again.stderr)
      assert.match(again.stderr, new RegExp(`^${LOCK.replace('.', '\\.')} unchanged: all \\d files of `, 'm'))
    }
    assert.deepEqual(await readFile(path.join(forward, LOCK)), before, 'byte-identical, timestamps included')
    const after = await stat(path.join(forward, LOCK))
    assert.deepEqual([after.ino, after.mtimeMs], [info.ino, info.mtimeMs], 'not even rewritten')
    await assertNoTempFiles()
  })

  it('--check writes nothing and exits 3 for a missing entry or a changed build; a changed build needs --update, which re-pins only it', async () => {
    const bucket = await seedBucket(busyboxObjects(V, {amd64, arm64}))
    const repo = await tempDir('check')
    const lock = (...extra: string[]): Promise<CliResult> => cli(repo, ['lock', 'busybox', '--version', V, '--from', `gs://${bucket}`, ...extra])

    const nothing = await lock('--check')
    assert.equal(nothing.code, 3, nothing.stderr)
    assert.deepEqual(errorLines(nothing), [
      `e2b-artifacts: error: ${LOCK} has no entry for busybox ${V}/amd64/busybox, busybox ${V}/arm64/busybox: add the missing entries with e2b-artifacts lock busybox --version ${V}`,
    ])
    assert.deepEqual(await listFiles(repo), [], '--check writes nothing, not even an empty lock')

    assert.equal((await lock('--arch', 'amd64')).code, 0)
    const partial = await lock('--check', '--json')
    assert.equal(partial.code, 3, partial.stderr)
    const report = json<{files: Array<{arch: string; status: string}>; error: {exitCode: number; kind: string}}>(partial)
    assert.deepEqual(report.files.map((f) => [f.arch, f.status]), [['amd64', 'unchanged'], ['arm64', 'missing']])
    assert.deepEqual([report.error.exitCode, report.error.kind], [3, 'reported-failure'])

    assert.equal((await lock()).code, 0)
    const clean = await lock('--check')
    assert.equal(clean.code, 0, clean.stderr)
    assert.match(clean.stderr, new RegExp(`^${LOCK.replace('.', '\\.')} matches gs://${bucket}/busybox for all 2 files of busybox ${V}$`, 'm'))
    const pinned = await readFile(path.join(repo, LOCK))
    const entriesBefore = (await readLock(repo)).entries

    await tamper(bucket)
    const changed = await lock('--check')
    assert.equal(changed.code, 3, changed.stderr)
    const pins = `${LOCK} pins busybox ${V}/amd64/busybox to sha256 ${sha(amd64)} (${amd64.length} bytes), but gs://${bucket}/busybox/${V}/amd64/busybox has ${sha(tampered)} (${tampered.length} bytes)`
    assert.deepEqual(errorLines(changed), [`e2b-artifacts: error: ${pins}: re-pin a changed build only after review, with --update`])
    const refused = await lock()
    assert.equal(refused.code, 3, refused.stderr)
    assert.deepEqual(errorLines(refused), [`e2b-artifacts: error: ${pins}: the lock was not changed; if the new build is intended, review it and run again with --update`])
    assert.deepEqual(await readFile(path.join(repo, LOCK)), pinned, 'never re-pinned silently')

    const updated = await lock('--update')
    assert.equal(updated.code, 0, updated.stderr)
    assert.match(updated.stderr, new RegExp(`^re-pinned busybox ${V}/amd64/busybox from sha256 ${sha(amd64).slice(0, 12)}… to ${sha(tampered).slice(0, 12)}… \\(--update\\)`, 'm'))
    const entriesAfter = (await readLock(repo)).entries
    assert.equal(entriesAfter[0]!.sha256, sha(tampered))
    assert.notEqual(entriesAfter[0]!.lockedAt, entriesBefore[0]!.lockedAt)
    assert.deepEqual(entriesAfter[1], entriesBefore[1], 'the unchanged entry is kept as it was')
    await assertNoTempFiles()
  })
})

describe('a malformed lock file', () => {
  it('exits 2 naming the file and the line, before any network access, for fetch, lock and verify alike', async () => {
    const repo = await tempDir('malformed')
    await mkdir(path.join(repo, 'sub'))
    await writeFile(path.join(repo, LOCK), `{\n  "entries": [\n    {\n      "arch": "amd64",\n      "artifact": "busybox"\n      "file": "busybox"\n    }\n  ],\n  "lockfileVersion": 1\n}\n`)
    const expected = (where: string): string =>
      `e2b-artifacts: error: ${where}:6: invalid JSON: expected ',' or '}' after the property value; fix it, or restore the file from version control`
    const from = `${server.url}/public-builds`
    const fetched = await cli(path.join(repo, 'sub'), ['fetch', '--version', V, '--arch', 'amd64', '--from', from])
    assert.equal(fetched.code, 2, fetched.stderr)
    assert.equal(fetched.stderr, `${expected(`../${LOCK}`)}\n`)
    const locked = await cli(repo, ['lock', 'busybox', '--version', V])
    assert.equal(locked.code, 2, locked.stderr)
    assert.equal(locked.stderr, `${expected(LOCK)}\n`)
    const verified = await cli(repo, ['verify', '--at', from, '--version', V, '--lock', LOCK])
    assert.equal(verified.code, 2, verified.stderr)
    assert.equal(verified.stderr, `${expected(LOCK)}\n`)
    const copied = await cli(repo, ['copy-public-builds', '--from', repo, '--to', `busybox=${path.join(repo, 'out')}`, '--lock', LOCK])
    assert.equal(copied.code, 2, copied.stderr)
    assert.deepEqual(server.requests, [])
    assert.deepEqual(await listFiles(repo), [LOCK])
  })

  it('exits 2 naming the entry for a bad digest', async () => {
    const repo = await tempDir('malformed-entry')
    await writeFile(
      path.join(repo, LOCK),
      JSON.stringify({entries: [{arch: 'amd64', artifact: 'busybox', file: 'busybox', lockedAt: '2026-04-01T12:00:00.000Z', sha256: 'ABC', size: 1, source: 'x', version: V}], lockfileVersion: 1}),
    )
    const result = await cli(repo, ['fetch', '--version', V, '--arch', 'amd64', '--from', `${server.url}/public-builds`, '--json'])
    assert.equal(result.code, 2, result.stderr)
    const message = `${LOCK}: entry 1 (busybox ${V}/amd64/busybox) has a 'sha256' that is not a sha256 digest (64 lowercase hex digits): 'ABC'; fix it, or restore the file from version control`
    assert.equal(result.stderr, `e2b-artifacts: error: ${message}\n`)
    assert.deepEqual(json(result), {error: {exitCode: 2, kind: 'usage', message}})
  })
})

describe('verify --lock', () => {
  it('--at: a consistently tampered bucket passes without the lock, and fails against it (exit 3); --against too', async () => {
    const bucket = await seedBucket(busyboxObjects(V, {amd64, arm64}))
    const repo = await tempDir('verify-lock')
    assert.equal((await cli(repo, ['lock', 'busybox', '--version', V, '--from', `gs://${bucket}`])).code, 0)
    const clean = await cli(repo, ['verify', '--at', `gs://${bucket}`, '--lock', LOCK])
    assert.equal(clean.code, 0, clean.stderr)
    assert.match(clean.stderr, new RegExp(`^OK +${V}/amd64 +gs://${bucket}/busybox/${V}/amd64/busybox matches ${LOCK.replace('.', '\\.')}$`, 'm'))

    await tamper(bucket)
    assert.equal((await cli(repo, ['verify', '--at', `gs://${bucket}`])).code, 0, 'the sidecar alone vouches for the tampered binary')
    const caught = await cli(repo, ['verify', '--at', `gs://${bucket}`], {E2B_ARTIFACTS_LOCK: path.join(repo, LOCK)})
    assert.equal(caught.code, 3, caught.stderr)
    assert.match(caught.stderr, new RegExp(`^FAIL +${V}/amd64 +gs://${bucket}/busybox/${V}/amd64/busybox has sha256 ${sha(tampered)}, but .*${LOCK.replace('.', '\\.')} pins busybox ${V}/amd64/busybox to ${sha(amd64)}$`, 'm'))
    assert.match(caught.stderr, new RegExp(`^OK +${V}/arm64 +.* matches `, 'm'))

    release()
    const against = await cli(repo, ['verify', '--version', V, '--against', `github:${OWNER}/${REPO}`, '--against', `gs://${bucket}`, '--lock', LOCK, '--json'])
    assert.equal(against.code, 3, against.stderr)
    const findings = json<{findings: Array<{kind: string; arch?: string; where: string; severity: string}>}>(against).findings.filter((f) => f.kind === 'locked' || f.kind === 'lock-mismatch')
    assert.deepEqual(
      findings.map((f) => [f.kind, f.arch, f.where]),
      [
        ['locked', 'amd64', `github:${OWNER}/${REPO}`],
        ['lock-mismatch', 'amd64', `gs://${bucket}`],
        ['locked', 'arm64', `github:${OWNER}/${REPO}`],
        ['locked', 'arm64', `gs://${bucket}`],
      ],
    )
    // Deploy pipelines run verify inside repositories: without --lock, the lock in the working directory is not used.
    assert.equal((await cli(repo, ['verify', '--at', `gs://${bucket}`])).code, 0)
  })
})

describe('copy-public-builds --lock', () => {
  it('copies what matches and what the lock does not pin; an object that disagrees is not copied, nor its sidecar (exit 3)', async () => {
    const kernel = randomBytes(40_000)
    const bucket = await seedBucket({...busyboxObjects(V, {amd64, arm64}), [`kernels/${K2}/amd64/vmlinux.bin`]: kernel})
    const repo = await tempDir('copy-lock')
    assert.equal((await cli(repo, ['lock', 'busybox', '--version', V, '--from', `gs://${bucket}`])).code, 0)
    await tamper(bucket)
    const out = await tempDir('copy-lock-out')
    const args = ['copy-public-builds', '--from', `gs://${bucket}`, '--to', `busybox=${path.join(out, 'fc-busybox')}`, '--to', `kernel=${path.join(out, 'fc-kernels')}`, '--lock', LOCK, '--json']
    const result = await cli(repo, args)
    assert.equal(result.code, 3, result.stderr)
    const report = json<{objects: Array<{key: string; action: string; error?: {message: string}}>; summary: {copied: number; failed: number; held: number}}>(result)
    assert.deepEqual(
      report.objects.map((o) => [o.key, o.action]),
      [
        [`${V}/amd64/busybox`, 'failed'],
        [`${V}/amd64/busybox.sha256`, 'held'],
        [`${V}/arm64/busybox`, 'copied'],
        [`${V}/arm64/busybox.sha256`, 'copied'],
        [`${K2}/amd64/vmlinux.bin`, 'copied'],
      ],
    )
    assert.equal(
      report.objects[0]!.error!.message,
      `gs://${bucket}/busybox/${V}/amd64/busybox has sha256 ${sha(tampered)}, but ${LOCK} pins busybox ${V}/amd64/busybox to ${sha(amd64)}: neither it nor its sidecar is copied`,
    )
    assert.deepEqual(await listFiles(out), [`fc-busybox/${V}/arm64/busybox`, `fc-busybox/${V}/arm64/busybox.sha256`, `fc-kernels/${K2}/amd64/vmlinux.bin`])
    assert.deepEqual(await readFile(path.join(out, `fc-kernels/${K2}/amd64/vmlinux.bin`)), kernel)

    // Once the bucket holds what the lock pins again, the run completes.
    await putRawObject(gcs, bucket, `busybox/${V}/amd64/busybox`, amd64)
    await putRawObject(gcs, bucket, `busybox/${V}/amd64/busybox.sha256`, `${sha(amd64)}  busybox\n`)
    const fixed = await cli(repo, args)
    assert.equal(fixed.code, 0, fixed.stderr)
    assert.deepEqual(await readFile(path.join(out, `fc-busybox/${V}/amd64/busybox`)), amd64)
  })
})
