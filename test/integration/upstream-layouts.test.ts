/**
 * Artifacts as upstream publishes and deploys them (issue 9): host directories
 * that need executable binaries, `--layout` for copy-public-builds, kernels and
 * Firecracker builds in the legacy flat layout `{version}/{file}`, companion
 * files (vmlinux.debug, firecracker-debug, firecracker-debug.debug), artifacts
 * without sidecars compared by the services' checksums, and S3 buckets filled
 * by upstream's `aws s3 cp` (multipart objects with composite ETags, no
 * sha256 metadata) that a re-run must not download again.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {chmod, mkdir, readFile, readdir, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {type CliResult, runCli} from '../support/cli.js'
import {type GcsServer, type S3Server, gcsServer, s3Server, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {ensureBucket, putRawObject} from '../support/gcs-objects.js'
import {type LoopbackProxy, type ProxiedRequest, proxyServer} from '../support/proxy.js'
import {listFiles, removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const sidecarOf = (body: Buffer, name: string): Buffer => Buffer.from(`${sha(body)}  ${name}\n`)
const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777

let gcs: GcsServer
let s3: S3Server
let proxy: LoopbackProxy
let amd64: Buffer
let arm64: Buffer

before(async () => {
  ;[gcs, s3, proxy, amd64, arm64] = await Promise.all([gcsServer(), s3Server(), proxyServer(), busyboxBytes('amd64'), busyboxBytes('arm64')])
})

after(() => removeTempDirs())

function json<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}

interface CopyReport {
  objects: Array<{key: string; action: string; checkedBy?: string[]; artifact: string}>
  summary: {copied: number; skipped: number; exitCode: number}
}

interface VerifyJson {
  findings: Array<{kind: string; where: string; severity: string; message: string; version?: string; arch?: string}>
  summary: {exitCode: number}
}

/** Writes a public layout (`{prefix}/{version}/...`) into a directory, every file 0600 as a careful mirror would keep them. */
async function writeTree(root: string, objects: ReadonlyMap<string, Buffer>): Promise<void> {
  for (const [key, body] of objects) {
    const file = path.join(root, ...key.split('/'))
    await mkdir(path.dirname(file), {recursive: true})
    await writeFile(file, body)
    await chmod(file, 0o600)
  }
}

/** What upstream's public bucket holds: busybox with sidecars, kernels and Firecracker with companions, no sidecars, some flat. */
function upstreamObjects(): Map<string, Buffer> {
  const elf = (head: Buffer, bytes: number): Buffer => Buffer.concat([head.subarray(0, 64), randomBytes(bytes)])
  return new Map([
    [`busybox/${V}/amd64/busybox`, amd64],
    [`busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64, 'busybox')],
    [`busybox/${V}/arm64/busybox`, arm64],
    [`busybox/${V}/arm64/busybox.sha256`, sidecarOf(arm64, 'busybox')],
    ['kernels/vmlinux-6.1.102/vmlinux.bin', randomBytes(150_000)],
    ['kernels/vmlinux-6.1.158/amd64/vmlinux.bin', randomBytes(250_000)],
    ['kernels/vmlinux-6.1.158/amd64/vmlinux.debug', randomBytes(90_000)],
    ['kernels/vmlinux-6.1.158/arm64/vmlinux.bin', randomBytes(240_000)],
    ['firecrackers/v1.10.1_1fcdaec/firecracker', elf(amd64, 80_000)],
    ['firecrackers/v1.12.1_210cbac/amd64/firecracker', elf(amd64, 100_000)],
    ['firecrackers/v1.12.1_210cbac/amd64/firecracker-debug', elf(amd64, 110_000)],
    ['firecrackers/v1.12.1_210cbac/amd64/firecracker-debug.debug', elf(amd64, 60_000)],
    ['firecrackers/v1.12.1_210cbac/arm64/firecracker', elf(arm64, 100_000)],
  ])
}

async function gcsPublic(label: string, objects: ReadonlyMap<string, Buffer>): Promise<string> {
  const bucket = uniqueBucket(label)
  await ensureBucket(gcs, bucket)
  for (const [key, body] of objects) await putRawObject(gcs, bucket, key, body)
  return bucket
}

const ENV_SUFFIX: Readonly<Record<string, string>> = {busybox: 'fc-busybox', firecrackers: 'fc-versions', kernels: 'fc-kernels'}

/** `kernels/6.1/vmlinux.bin` → `fc-kernels`, `6.1/vmlinux.bin`. */
function envKey(publicKey: string): {suffix: string; key: string} {
  const [prefix = '', ...rest] = publicKey.split('/')
  return {key: rest.join('/'), suffix: ENV_SUFFIX[prefix]!}
}

describe('host directories', () => {
  it('copy-public-builds installs binaries 0755 and sidecars 0644, staged and renamed, whatever the source modes', async () => {
    const objects = upstreamObjects()
    const source = await tempDir('host-source')
    await writeTree(source, objects)
    const bucket = await gcsPublic('host-gcs', objects)
    for (const from of [`file://${source}`, `gs://${bucket}`]) {
      const host = await tempDir('host')
      const to = Object.entries(ENV_SUFFIX).map(([prefix, suffix]) => `${{busybox: 'busybox', firecrackers: 'firecracker', kernels: 'kernel'}[prefix]}=file://${path.join(host, suffix)}`)
      const result = await runCli(['copy-public-builds', '--from', from, ...to.flatMap((pair) => ['--to', pair])], {env: gcs.env})
      assert.equal(result.code, 0, result.stderr)
      const expected = [...objects.keys()].map((key) => path.join(envKey(key).suffix, ...envKey(key).key.split('/'))).sort()
      assert.deepEqual(await listFiles(host), expected, `${from}: every object, and no temp file`)
      for (const [key, body] of objects) {
        const file = path.join(host, envKey(key).suffix, ...envKey(key).key.split('/'))
        assert.deepEqual(await readFile(file), body)
        assert.equal(await mode(file), key.endsWith('.sha256') ? 0o644 : 0o755, `${from}: mode of ${key}`)
      }
    }
  })

  it('--layout env puts the objects at the destination root whatever its name, --layout public under the prefix', async () => {
    const objects = upstreamObjects()
    const source = await tempDir('layout-source')
    await writeTree(source, objects)
    const dir = await tempDir('layout')
    const env = await runCli(['copy-public-builds', '--from', source, '--to', `busybox=file://${path.join(dir, 'mirror')}`, '--layout', 'env'])
    assert.equal(env.code, 0, env.stderr)
    assert.deepEqual(await listFiles(path.join(dir, 'mirror')), [`${V}/amd64/busybox`, `${V}/amd64/busybox.sha256`, `${V}/arm64/busybox`, `${V}/arm64/busybox.sha256`])
    const pub = await runCli(['copy-public-builds', '--from', source, '--to', `busybox=file://${path.join(dir, 'fc-busybox')}`, '--layout', 'public', '--version', V])
    assert.equal(pub.code, 0, pub.stderr)
    assert.deepEqual(await listFiles(path.join(dir, 'fc-busybox')), [`busybox/${V}/amd64/busybox`, `busybox/${V}/amd64/busybox.sha256`, `busybox/${V}/arm64/busybox`, `busybox/${V}/arm64/busybox.sha256`])
  })
})

describe('kernels and Firecracker as upstream publishes them', () => {
  it('fetch of amd64 falls back to the legacy flat {version}/{file}, with --layout too; other arches do not', async () => {
    const objects = upstreamObjects()
    const kernel = objects.get('kernels/vmlinux-6.1.102/vmlinux.bin')!
    const firecracker = objects.get('firecrackers/v1.10.1_1fcdaec/firecracker')!
    // Sidecars next to the flat keys: the fallback must find those too.
    objects.set('kernels/vmlinux-6.1.102/vmlinux.bin.sha256', sidecarOf(kernel, 'vmlinux.bin'))
    objects.set('firecrackers/v1.10.1_1fcdaec/firecracker.sha256', sidecarOf(firecracker, 'firecracker'))
    const bucket = await gcsPublic('flat', objects)
    const dir = await tempDir('flat')
    const fetch = (args: string[]): Promise<CliResult> => runCli(['fetch', ...args], {cwd: dir, env: gcs.env})

    const kernelOut = path.join(dir, 'k', 'vmlinux.bin')
    const fetchedKernel = await fetch(['kernel', '--version', 'vmlinux-6.1.102', '--arch', 'amd64', '--from', `gs://${bucket}`, '--out', kernelOut])
    assert.equal(fetchedKernel.code, 0, fetchedKernel.stderr)
    assert.deepEqual(await readFile(kernelOut), kernel)
    assert.match(fetchedKernel.stderr, new RegExp(`from gs://${bucket}/kernels/vmlinux-6\\.1\\.102/vmlinux\\.bin`))

    const fcOut = path.join(dir, 'f', 'firecracker')
    const fetchedFc = await fetch(['firecracker', '--version', 'v1.10.1_1fcdaec', '--arch', 'x86_64', '--from', `gs://${bucket}/firecrackers`, '--layout', 'env', '--out', fcOut])
    assert.equal(fetchedFc.code, 0, fetchedFc.stderr)
    assert.deepEqual(await readFile(fcOut), firecracker)

    const arm = await fetch(['kernel', '--version', 'vmlinux-6.1.102', '--arch', 'arm64', '--from', `gs://${bucket}`, '--out', path.join(dir, 'arm', 'vmlinux.bin')])
    assert.equal(arm.code, 4, arm.stderr)
    assert.match(arm.stderr, /kernel vmlinux-6\.1\.102\/arm64 not found at/)
  })

  it('verify --at audits companion files like the main one and never reports them as unexpected', async () => {
    const objects = upstreamObjects()
    const debug = objects.get('kernels/vmlinux-6.1.158/amd64/vmlinux.debug')!
    objects.set('kernels/vmlinux-6.1.158/amd64/vmlinux.debug.sha256', sidecarOf(debug, 'vmlinux.debug'))
    objects.set('kernels/vmlinux-6.1.158/amd64/README', Buffer.from('not an artifact'))
    const bucket = await gcsPublic('companions', objects)
    const kernels = await runCli(['verify', 'kernel', '--at', `gs://${bucket}`, '--deep', '--json'], {env: gcs.env})
    assert.equal(kernels.code, 0, kernels.stderr)
    const report = json<VerifyJson>(kernels)
    assert.deepEqual(report.findings.filter((f) => f.kind === 'unexpected-object').map((f) => f.where), [`gs://${bucket}/kernels/vmlinux-6.1.158/amd64/README`])
    const debugFinding = report.findings.find((f) => f.where === `gs://${bucket}/kernels/vmlinux-6.1.158/amd64/vmlinux.debug`)
    assert.equal(debugFinding?.kind, 'ok', 'the companion is checked against its own sidecar')

    const firecrackers = await runCli(['verify', 'firecracker', '--at', `gs://${bucket}`, '--json'], {env: gcs.env})
    assert.equal(firecrackers.code, 0, firecrackers.stderr)
    const fcReport = json<VerifyJson>(firecrackers)
    assert.deepEqual(fcReport.findings.filter((f) => f.kind === 'unexpected-object'), [])
    for (const companion of ['firecracker-debug', 'firecracker-debug.debug']) {
      assert.ok(fcReport.findings.some((f) => f.where === `gs://${bucket}/firecrackers/v1.12.1_210cbac/amd64/${companion}`), `${companion} is audited`)
    }
  })

  it("verify --against compares artifacts without sidecars by the services' checksums, legacy flat ones as amd64", async () => {
    const objects = upstreamObjects()
    const bucket = await gcsPublic('against', objects)
    const prefix = `${uniqueBucket('against')}-`
    await s3.createBucket(`${prefix}fc-kernels`)
    const copied = await runCli(['copy-public-builds', '--from', `gs://${bucket}`, '--provider', 'aws', '--bucket-prefix', prefix, '--artifact', 'kernel'], {env: {...gcs.env, ...s3.env}})
    assert.equal(copied.code, 0, copied.stderr)
    const host = await tempDir('against-host')
    await writeTree(path.join(host, 'fc-kernels'), new Map([...objects].filter(([key]) => key.startsWith('kernels/')).map(([key, body]) => [envKey(key).key, body])))

    const result = await runCli(['verify', 'kernel', '--against', `gs://${bucket}`, '--against', `s3://${prefix}fc-kernels`, '--against', path.join(host, 'fc-kernels'), '--json'], {env: {...gcs.env, ...s3.env}})
    assert.equal(result.code, 0, result.stderr)
    const report = json<VerifyJson>(result)
    assert.deepEqual(
      report.findings.map((f) => [f.kind, `${f.version}/${f.arch}`]),
      [['ok', 'vmlinux-6.1.102/amd64'], ['ok', 'vmlinux-6.1.158/amd64'], ['ok', 'vmlinux-6.1.158/arm64']],
    )
    for (const finding of report.findings) assert.match(finding.message, /agrees in 3 locations \(by .*md5/)

    // A kernel that differs is found, without a sidecar anywhere.
    const changed = Buffer.from(randomBytes(250_000))
    await writeFile(path.join(host, 'fc-kernels', 'vmlinux-6.1.158', 'amd64', 'vmlinux.bin'), changed)
    const differs = await runCli(['verify', 'kernel', '--against', `gs://${bucket}`, '--against', path.join(host, 'fc-kernels'), '--version', 'vmlinux-6.1.158', '--json'], {env: gcs.env})
    assert.equal(differs.code, 3, differs.stderr)
    assert.deepEqual(json<VerifyJson>(differs).findings.map((f) => [f.kind, f.arch]), [['disagree', 'amd64'], ['ok', 'arm64']])
  })
})

describe('re-runs against S3 buckets filled the way upstream does', () => {
  /** Objects written as `aws s3 cp` writes them: multipart (8 MiB parts, a composite ETag) above 8 MiB, no metadata. */
  async function awsCp(bucket: string, key: string, body: Buffer): Promise<void> {
    const sdk = await import('@aws-sdk/client-s3')
    const client = new sdk.S3Client({credentials: {accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey}, endpoint: s3.endpoint, forcePathStyle: true, region: s3.region})
    try {
      const part = 8 * 1024 * 1024
      if (body.length <= part) {
        await client.send(new sdk.PutObjectCommand({Body: body, Bucket: bucket, Key: key}))
        return
      }
      const {UploadId} = await client.send(new sdk.CreateMultipartUploadCommand({Bucket: bucket, Key: key}))
      const parts = []
      for (let offset = 0, number = 1; offset < body.length; offset += part, number++) {
        const uploaded = await client.send(new sdk.UploadPartCommand({Body: body.subarray(offset, offset + part), Bucket: bucket, Key: key, PartNumber: number, UploadId}))
        parts.push({ETag: uploaded.ETag, PartNumber: number})
      }
      await client.send(new sdk.CompleteMultipartUploadCommand({Bucket: bucket, Key: key, MultipartUpload: {Parts: parts}, UploadId}))
      const head = await client.send(new sdk.HeadObjectCommand({Bucket: bucket, Key: key}))
      assert.match(head.ETag ?? '', /-\d+"$/, 'a composite ETag, as upstream leaves it')
    } finally {
      client.destroy()
    }
  }

  /** Object reads (not listings or metadata) among the proxied requests, per side. */
  function downloads(logged: readonly ProxiedRequest[], bucket: string): {gcs: string[]; s3: string[]} {
    return {
      gcs: logged.filter((r) => r.method === 'GET' && r.target.startsWith(`${gcs.endpoint}/${bucket}/`)).map((r) => r.path!),
      s3: logged.filter((r) => r.method === 'GET' && r.target.startsWith(`${s3.endpoint}/`) && !r.target.includes('list-type=')).map((r) => r.path!.replace(/\?x-id=GetObject$/, '')),
    }
  }

  it('compare without downloading wherever the services share a checksum, and read only the destination where they do not', async () => {
    const big = randomBytes(9 * 1024 * 1024)
    const objects = new Map<string, Buffer>([
      ['kernels/vmlinux-6.1.158/amd64/vmlinux.bin', big],
      ['kernels/vmlinux-6.1.158/amd64/vmlinux.debug', randomBytes(300_000)],
      ['kernels/vmlinux-6.1.102/vmlinux.bin', randomBytes(200_000)],
    ])
    const bucket = await gcsPublic('rerun', objects)
    const prefix = `${uniqueBucket('rerun')}-`
    await s3.createBucket(`${prefix}fc-kernels`)
    for (const [key, body] of objects) await awsCp(`${prefix}fc-kernels`, envKey(key).key, body)

    // Both sides through the forwarding proxy: its log lists every object read, by URL.
    const env = {...s3.env, ...proxy.env(), E2B_ARTIFACTS_GCS_ENDPOINT: gcs.endpoint}
    const args = ['copy-public-builds', '--from', `https://storage.googleapis.com/${bucket}`, '--provider', 'aws', '--bucket-prefix', prefix, '--artifact', 'kernel', '--json']
    const run = async (): Promise<{report: CopyReport; logged: ProxiedRequest[]}> => {
      const mark = proxy.mark()
      const result = await runCli(args, {env, timeoutMs: 120_000})
      assert.equal(result.code, 0, result.stderr)
      return {logged: proxy.requestsSince(mark), report: json<CopyReport>(result)}
    }

    const first = await run()
    assert.equal(first.report.summary.skipped, 3)
    const byKey = Object.fromEntries(first.report.objects.map((o) => [o.key, o.checkedBy]))
    // What the first run reads: the multipart object at the destination only (its md5 against the one GCS
    // keeps for the source); single-part objects compare by their ETag's md5 and are not read at all.
    assert.deepEqual(byKey['vmlinux-6.1.158/amd64/vmlinux.bin'], ['md5 (rehashed)'])
    assert.deepEqual(byKey['vmlinux-6.1.102/vmlinux.bin'], ['md5 (ETag)'])
    assert.deepEqual(downloads(first.logged, bucket), {gcs: [], s3: [`/${prefix}fc-kernels/vmlinux-6.1.158/amd64/vmlinux.bin`]})

    // Nothing is recorded to skip that read next time: a digest a client writes is a claim, and a claim never
    // makes an object the same (a tampered object could carry it). So the multipart object, which has no
    // checksum of S3's own, is read again; the rest still compare by what the services computed, unread.
    const second = await run()
    assert.equal(second.report.summary.skipped, 3)
    assert.deepEqual(Object.fromEntries(second.report.objects.map((o) => [o.key, o.checkedBy])), byKey)
    assert.deepEqual(downloads(second.logged, bucket), {gcs: [], s3: [`/${prefix}fc-kernels/vmlinux-6.1.158/amd64/vmlinux.bin`]})

    // The same from gs:// (Google credentials), into a fresh bucket filled the same way.
    const again = `${uniqueBucket('rerun-gs')}-fc-kernels`
    await s3.createBucket(again)
    for (const [key, body] of objects) await awsCp(again, envKey(key).key, body)
    const fromGs = ['copy-public-builds', '--from', `gs://${bucket}`, '--to', `kernel=s3://${again}`, '--json']
    for (const [round, rehashed] of [[1, 1], [2, 1]] as const) {
      const result = await runCli(fromGs, {env: {...s3.env, ...gcs.env}, timeoutMs: 120_000})
      assert.equal(result.code, 0, result.stderr)
      const report = json<CopyReport>(result)
      assert.equal(report.summary.skipped, 3)
      assert.equal(report.objects.filter((o) => o.checkedBy?.some((by) => by.endsWith('(rehashed)'))).length, rehashed, `run ${round}: objects read to compare`)
    }

    // The content itself was never touched.
    const dir = await tempDir('rerun-check')
    const fetched = await runCli(['fetch', 'kernel', '--version', 'vmlinux-6.1.158', '--arch', 'amd64', '--from', `s3://${prefix}fc-kernels`, '--out', path.join(dir, 'vmlinux.bin'), '--sha256', sha(big)], {cwd: dir, env: s3.env})
    assert.equal(fetched.code, 0, fetched.stderr)
    // The origin record says which version and arch the kernel is: its content cannot.
    assert.deepEqual((await readdir(dir)).sort(), ['vmlinux.bin', 'vmlinux.bin.origin', 'vmlinux.bin.sha256'])
  })
})
