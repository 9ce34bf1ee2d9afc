import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdir, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {startArtifactServer} from '../support/artifact-server.js'
import {CLI, runCli, testEnv} from '../support/cli.js'
import {buildElf} from '../support/elf-builder.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')

let amd64: Buffer
let arm64: Buffer
let mirror: string

async function put(root: string, key: string, body: Buffer | string): Promise<void> {
  await mkdir(path.dirname(path.join(root, key)), {recursive: true})
  await writeFile(path.join(root, key), body)
}

/** A public layout with busybox for both arches, as `upload` leaves it. */
async function seedPublic(root: string): Promise<void> {
  for (const [arch, body] of [['amd64', amd64], ['arm64', arm64]] as const) {
    await put(root, `busybox/${V}/${arch}/busybox`, body)
    await put(root, `busybox/${V}/${arch}/busybox.sha256`, `${sha(body)}  busybox\n`)
  }
}

const verify = (...args: string[]): ReturnType<typeof runCli> => runCli(['verify', ...args])

before(async () => {
  amd64 = await busyboxBytes('amd64')
  arm64 = await busyboxBytes('arm64')
})

after(removeTempDirs)

beforeEach(async () => {
  mirror = await tempDir('verify')
  await seedPublic(mirror)
})

describe('verify --file', () => {
  it('passes a file that matches its sidecar', async () => {
    const file = path.join(mirror, 'busybox', V, 'amd64', 'busybox')
    const result = await verify('--file', file, '--arch', 'amd64')
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /^OK {2}- {2}\S+\/busybox matches its sidecar$/m)
  })

  it('fails a modified file with exit 3, and a wrong arch too', async () => {
    const file = path.join(mirror, 'busybox', V, 'amd64', 'busybox')
    await writeFile(file, Buffer.concat([amd64, Buffer.from('x')]))
    const result = await verify('--file', file, '--arch', 'arm64', '--json')
    assert.equal(result.code, 3)
    const report = JSON.parse(result.stdout)
    assert.deepEqual(report.findings.map((f: {kind: string}) => f.kind).sort(), ['digest-mismatch', 'elf-mismatch'])
    assert.equal(report.error.exitCode, 3)
  })

  it('checks against --sha256 when there is no sidecar, and reports a missing file as 4', async () => {
    const file = path.join(mirror, 'busybox', V, 'amd64', 'busybox')
    await rm(`${file}.sha256`)
    assert.equal((await verify('--file', file)).code, 3, 'no sidecar and no pin')
    assert.equal((await verify('--file', file, '--sha256', sha(amd64))).code, 0)
    assert.equal((await verify('--file', file, '--sha256', sha('x'))).code, 3)
    assert.equal((await verify('--file', path.join(mirror, 'nope'))).code, 4)
  })
})

describe('verify --at', () => {
  it('is clean on a well-formed public layout, rehashing with --deep', async () => {
    const result = await verify('--at', mirror, '--deep', '--json')
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.equal(report.summary.checked, 2)
    assert.deepEqual(report.findings.map((f: {kind: string}) => f.kind), ['ok', 'ok'])
  })

  it('without --deep and without metadata, rehashes; only --metadata-only leaves the digests unverified', async () => {
    const result = await verify('--at', `file://${mirror}`)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /^OK +1\.35\.0\/amd64 +.*matches its sidecar \(rehashed\)$/m)
    const cheap = await verify('--at', `file://${mirror}`, '--metadata-only')
    assert.equal(cheap.code, 0, cheap.stderr)
    assert.match(cheap.stderr, /^NOTE +1\.35\.0\/amd64 +.*the store keeps no sha256 of its content; not checked \(--metadata-only\)$/m)
  })

  it('finds every kind of damage, one row each, and exits 3', async () => {
    await rm(path.join(mirror, `busybox/${V}/arm64/busybox.sha256`))
    await put(mirror, 'busybox/1.36.1/amd64/busybox.sha256', `${sha(amd64)}  busybox\n`)
    await put(mirror, 'busybox/1.37.0/amd64/busybox', amd64)
    await put(mirror, 'busybox/1.37.0/amd64/busybox.sha256', 'not a digest\n')
    await put(mirror, 'busybox/1.38.0/amd64/busybox', arm64)
    await put(mirror, 'busybox/1.38.0/amd64/busybox.sha256', `${sha(arm64)}  busybox\n`)
    await put(mirror, 'busybox/1.39.0/arm64/busybox', arm64)
    await put(mirror, 'busybox/1.39.0/arm64/busybox.sha256', `${sha(amd64)}  busybox\n`)
    const result = await verify('--at', mirror, '--deep', '--json')
    assert.equal(result.code, 3, result.stderr)
    const kinds = Object.fromEntries(
      JSON.parse(result.stdout).findings.map((f: {kind: string; version: string; arch: string}) => [`${f.version}/${f.arch}`, f.kind]),
    )
    assert.deepEqual(kinds, {
      '1.35.0/amd64': 'ok',
      '1.35.0/arm64': 'missing-sidecar',
      '1.36.1/amd64': 'orphan-sidecar',
      '1.37.0/amd64': 'malformed-sidecar',
      '1.38.0/amd64': 'elf-mismatch',
      '1.39.0/arm64': 'digest-mismatch',
    })
    const human = await verify('--at', mirror, '--deep')
    assert.equal(human.code, 3)
    assert.equal(human.stderr.trimEnd().split('\n').length, 6 + 2, 'six rows, the summary, and the error line')
    assert.match(human.stderr, /^e2b-artifacts: error: verify at: busybox: 6 checked, 5 problems$/m)
  })

  it('narrows to --version and --arch, and exits 4 when that is absent', async () => {
    const one = await verify('--at', mirror, '--version', V, '--arch', 'arm64', '--deep', '--json')
    assert.equal(one.code, 0, one.stderr)
    assert.equal(JSON.parse(one.stdout).summary.checked, 1)
    const none = await verify('--at', mirror, '--version', '9.9.9')
    assert.equal(none.code, 4)
    assert.match(none.stderr, /no busybox 9\.9\.9 at /)
  })

  it('delivers a --json report larger than a pipe buffer whole', async () => {
    const tiny = buildElf({machine: 62})
    await Promise.all(
      Array.from({length: 400}, async (_, i) => {
        await put(mirror, `busybox/2.${i}/amd64/busybox`, tiny)
        await put(mirror, `busybox/2.${i}/amd64/busybox.sha256`, `${sha(tiny)}  busybox\n`)
      }),
    )
    // A reader slower than the writer, as in `| jq` or `| wc -c`: the pipe fills before the process exits.
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" verify --at "${mirror}" --json | (sleep 1; cat)`], {encoding: 'utf8', env: testEnv()})
    assert.equal(piped.status, 0, piped.stderr)
    assert.ok(piped.stdout.length > 128 * 1024, `report is ${piped.stdout.length} bytes`)
    assert.equal(JSON.parse(piped.stdout).summary.checked, 402)
  })

  it('reads legacy layouts without an arch level', async () => {
    await put(mirror, 'kernels/6.1.102/vmlinux.bin', 'kernel')
    await put(mirror, 'kernels/6.1.102/vmlinux.bin.sha256', `${sha('kernel')}  vmlinux.bin\n`)
    const result = await verify('kernel', '--at', mirror, '--deep', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(JSON.parse(result.stdout).findings.map((f: {kind: string; version: string}) => [f.kind, f.version]), [['ok', '6.1.102']])
  })
})

describe('verify --against', () => {
  it('agrees across a public mirror and an env-layout copy, and reports a planted mismatch', async () => {
    const env = await tempDir('prod-fc-busybox')
    const envRoot = path.join(env, 'prod-fc-busybox')
    await put(envRoot, `${V}/amd64/busybox`, amd64)
    await put(envRoot, `${V}/amd64/busybox.sha256`, `${sha(amd64)}  busybox\n`)
    await put(envRoot, `${V}/arm64/busybox`, arm64)
    await put(envRoot, `${V}/arm64/busybox.sha256`, `${sha(arm64)}  busybox\n`)
    const clean = await verify('--against', mirror, '--against', envRoot, '--json')
    assert.equal(clean.code, 0, clean.stderr)
    assert.deepEqual(JSON.parse(clean.stdout).findings.map((f: {kind: string}) => f.kind), ['ok', 'ok'])

    await put(envRoot, `${V}/arm64/busybox.sha256`, `${sha('tampered')}  busybox\n`)
    await rm(path.join(envRoot, V, 'amd64'), {recursive: true})
    const bad = await verify('--against', mirror, '--against', envRoot, '--json')
    assert.equal(bad.code, 3)
    const findings = JSON.parse(bad.stdout).findings as Array<{kind: string; arch: string; message: string}>
    assert.deepEqual(findings.map((f) => [f.arch, f.kind]), [['amd64', 'missing'], ['arm64', 'disagree']])
    assert.match(findings[1]!.message, new RegExp(`=${sha(arm64).slice(0, 12)}….*=${sha('tampered').slice(0, 12)}…`))
  })

  it('compares a GitHub release (SHA256SUMS) with buckets, and reports a release whose API digest contradicts it', async () => {
    const server = await startArtifactServer()
    try {
      const sums = `${sha(amd64)}  busybox_v${V}_amd64\n${sha(arm64)} *busybox_v${V}_arm64\n`
      const assets = [
        {body: amd64, name: `busybox_v${V}_amd64`},
        {body: arm64, name: `busybox_v${V}_arm64`},
        {body: sums, name: 'SHA256SUMS'},
      ]
      server.addRelease({assets, owner: 'e2b-dev', repo: 'fc-busybox', tag: `v${V}`})
      const env = {GITHUB_API_URL: `${server.url}/api`, GITHUB_SERVER_URL: server.url}
      const args = ['verify', '--version', V, '--against', 'github:e2b-dev/fc-busybox', '--against', mirror, '--json']
      const clean = await runCli(args, {env})
      assert.equal(clean.code, 0, clean.stderr)
      assert.deepEqual(JSON.parse(clean.stdout).findings.map((f: {kind: string; sha256: string}) => [f.kind, f.sha256]), [['ok', sha(amd64)], ['ok', sha(arm64)]])

      await put(mirror, `busybox/${V}/arm64/busybox.sha256`, `${sha('rebuilt')}  busybox\n`)
      const mismatch = await runCli(args, {env})
      assert.equal(mismatch.code, 3)
      assert.match(JSON.parse(mismatch.stdout).findings[1].message, /busybox 1\.35\.0\/arm64 differs: github:e2b-dev\/fc-busybox=/)

      server.clear()
      server.addRelease({assets: [{...assets[0]!, digest: `sha256:${sha('other')}`}, assets[1]!, assets[2]!], owner: 'e2b-dev', repo: 'fc-busybox', tag: `v${V}`})
      const inconsistent = await runCli(args, {env})
      assert.equal(inconsistent.code, 3)
      assert.match(inconsistent.stderr, /the GitHub API digest of .*busybox_v1\.35\.0_amd64 is [0-9a-f]{64}, but .*SHA256SUMS says/)
    } finally {
      await server.close()
    }
  })

  it('exits 4 when the asked-for version is nowhere', async () => {
    const result = await verify('--against', mirror, '--version', '9.9.9', '--arch', 'amd64')
    assert.equal(result.code, 4)
    assert.match(result.stderr, /busybox 9\.9\.9\/amd64 is in none of the locations/)
  })

  it('needs exactly one mode', async () => {
    const result = await verify('--at', mirror, '--file', 'x')
    assert.equal(result.code, 2)
    assert.match(result.stderr, /choose one of --file, --at or --against/)
  })
})
