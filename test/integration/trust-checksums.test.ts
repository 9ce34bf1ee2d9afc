/**
 * Issue 8, items 4, 5 and 6: nothing unverified. `verify --at` never exits 0
 * for a hash it did not check (rehashing what metadata cannot vouch for,
 * `--metadata-only` as the explicit opt-out); a service checksum beats the
 * `sha256` metadata a client wrote, in copy, upload and verify; and an
 * artifact without a sidecar is verified against the service's own checksum
 * in transit, or refused unless `--sha256` or `--allow-unverified` is given.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdir, readFile, readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import type {S3Client} from '@aws-sdk/client-s3'

import {parseLocation} from '../../src/core/location.js'
import {openStore} from '../../src/stores/open-store.js'
import type {Store} from '../../src/stores/store.js'
import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {type CliResult, runCli} from '../support/cli.js'
import {type GcsServer, type S3Server, gcsServer, s3Server, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {googHashes} from '../support/goog-hash.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const sidecarOf = (body: Buffer | string, name = 'busybox'): string => `${sha(body)}  ${name}\n`

let gcs: GcsServer
let s3: S3Server
let client: S3Client
let amd64: Buffer
/** The real amd64 busybox with its second half zeroed: the same size and ELF header, other content. */
let tampered: Buffer
const stores: Store[] = []

before(async () => {
  ;[gcs, s3, amd64] = await Promise.all([gcsServer(), s3Server(), busyboxBytes('amd64')])
  Object.assign(process.env, gcs.env, s3.env)
  tampered = Buffer.from(amd64)
  tampered.fill(0, tampered.length >> 1)
  const {S3Client: Client} = await import('@aws-sdk/client-s3')
  client = new Client({credentials: {accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey}, endpoint: s3.endpoint, forcePathStyle: true, region: s3.region})
})

after(async () => {
  client.destroy()
  await Promise.allSettled(stores.splice(0).map((store) => store.close?.()))
  await removeTempDirs()
})

async function storeAt(url: string): Promise<Store> {
  const store = await openStore(parseLocation(url))
  stores.push(store)
  return store
}

/** An S3 object as another tool writes it: any content, any `sha256` metadata, with or without a SHA-256 checksum. */
async function s3Put(bucket: string, key: string, body: Buffer | string, options: {metadataSha256?: string; checksum?: boolean} = {}): Promise<void> {
  const {PutObjectCommand} = await import('@aws-sdk/client-s3')
  await client.send(
    new PutObjectCommand({
      Body: body,
      Bucket: bucket,
      Key: key,
      ...(options.metadataSha256 ? {Metadata: {sha256: options.metadataSha256}} : {}),
      ...(options.checksum ? {ChecksumSHA256: createHash('sha256').update(body).digest('base64')} : {}),
    }),
  )
}

/** A `gsutil cp` upload: content only, no sha256 metadata. */
async function gcsPutPlain(bucket: string, name: string, body: Buffer | string): Promise<void> {
  const response = await fetch(`${gcs.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`, {body: typeof body === 'string' ? body : new Uint8Array(body), method: 'POST'})
  assert.equal(response.status, 200, await response.text())
}

interface Finding {
  kind: string
  severity: string
  message: string
}

function findings(result: CliResult): Finding[] {
  try {
    return (JSON.parse(result.stdout) as {findings: Finding[]}).findings
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`)
  }
}

describe('verify --at never exits 0 for a hash it did not check', () => {
  let mirror: string

  beforeEach(async () => {
    mirror = await tempDir('verify-rehash')
    await mkdir(path.join(mirror, 'busybox', V, 'amd64'), {recursive: true})
    await writeFile(path.join(mirror, 'busybox', V, 'amd64', 'busybox'), tampered)
    await writeFile(path.join(mirror, 'busybox', V, 'amd64', 'busybox.sha256'), sidecarOf(amd64))
  })

  it('rehashes a plain directory, which has no metadata, without --deep: a damaged binary is exit 3', async () => {
    const result = await runCli(['verify', '--at', mirror, '--json'])
    assert.equal(result.code, 3, result.stderr)
    assert.deepEqual(findings(result).map((f) => [f.kind, f.severity]), [['digest-mismatch', 'integrity']])
    const human = await runCli(['verify', '--at', mirror])
    assert.match(human.stderr, new RegExp(`^FAIL +${V}/amd64 +\\S+/busybox has sha256 ${sha(tampered)}, but its sidecar says ${sha(amd64)}$`, 'm'))
  })

  it('calls an intact plain directory ok, saying it rehashed', async () => {
    await writeFile(path.join(mirror, 'busybox', V, 'amd64', 'busybox'), amd64)
    const result = await runCli(['verify', '--at', mirror])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, new RegExp(`^OK +${V}/amd64 +\\S+/busybox matches its sidecar \\(rehashed\\)$`, 'm'))
  })

  it('--metadata-only downloads no binary and lists what it could not check as unverified, exit 0', async () => {
    const result = await runCli(['verify', '--at', mirror, '--metadata-only', '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(findings(result).map((f) => [f.kind, f.severity]), [['unverified', 'info']])
    const human = await runCli(['verify', '--at', mirror, '--metadata-only'])
    assert.match(human.stderr, /^NOTE +1\.35\.0\/amd64 +\S+\/busybox: the store keeps no sha256 of its content; not checked \(--metadata-only\)$/m)
  })

  it('refuses --deep with --metadata-only (exit 2)', async () => {
    const result = await runCli(['verify', '--at', mirror, '--deep', '--metadata-only'])
    assert.equal(result.code, 2, result.stderr)
    assert.equal(result.stderr, 'e2b-artifacts: error: choose one of --deep (rehash every binary) or --metadata-only (download none)\n')
  })

  it('rehashes gsutil-style GCS objects (no sha256 metadata), and objects whose metadata is only a claim', async () => {
    const plain = uniqueBucket('gsutil')
    await gcs.createBucket(plain)
    await gcsPutPlain(plain, `busybox/${V}/amd64/busybox`, tampered)
    await gcsPutPlain(plain, `busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64))
    const bare = await runCli(['verify', '--at', `gs://${plain}`, '--json'], {env: gcs.env})
    assert.equal(bare.code, 3, bare.stderr)
    assert.deepEqual(findings(bare).map((f) => f.kind), ['digest-mismatch'])

    // Metadata that agrees with the sidecar, on content that does not: GCS computes no sha256 to contradict it.
    const claimed = uniqueBucket('claim')
    await gcs.createBucket(claimed)
    await gcsPutPlain(claimed, `busybox/${V}/amd64/busybox`, tampered)
    await gcsPutPlain(claimed, `busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64))
    const patched = await fetch(`${gcs.endpoint}/storage/v1/b/${claimed}/o/${encodeURIComponent(`busybox/${V}/amd64/busybox`)}`, {
      body: JSON.stringify({metadata: {sha256: sha(amd64)}}),
      headers: {'content-type': 'application/json'},
      method: 'PATCH',
    })
    assert.equal(patched.status, 200)
    const result = await runCli(['verify', '--at', `gs://${claimed}`, '--json'], {env: gcs.env})
    assert.equal(result.code, 3, result.stderr)
    assert.deepEqual(findings(result).map((f) => f.kind), ['digest-mismatch'])
    const cheap = await runCli(['verify', '--at', `gs://${claimed}`, '--metadata-only'], {env: gcs.env})
    assert.equal(cheap.code, 0, cheap.stderr)
    assert.match(cheap.stderr, /^NOTE .*its sha256 metadata agrees with its sidecar, but metadata is a claim, not a checksum of the content; not checked \(--metadata-only\)$/m)
  })
})

describe("a service checksum beats client metadata (S3)", () => {
  let bucket: string

  beforeEach(async () => {
    bucket = `${uniqueBucket('claims')}-fc-busybox`
    await s3.createBucket(bucket)
  })

  it('verify --at: a tampered object tagged with the right x-amz-meta-sha256 fails (exit 3), rehashed or by its ChecksumSHA256', async () => {
    await s3Put(bucket, `${V}/amd64/busybox`, tampered, {metadataSha256: sha(amd64)})
    await s3Put(bucket, `${V}/amd64/busybox.sha256`, sidecarOf(amd64))
    const rehashed = await runCli(['verify', '--at', `s3://${bucket}`, '--json'], {env: s3.env})
    assert.equal(rehashed.code, 3, rehashed.stderr)
    assert.deepEqual(findings(rehashed).map((f) => f.kind), ['digest-mismatch'])

    await s3Put(bucket, `${V}/amd64/busybox`, tampered, {checksum: true, metadataSha256: sha(amd64)})
    const byChecksum = await runCli(['verify', '--at', `s3://${bucket}`, '--metadata-only', '--json'], {env: s3.env})
    assert.equal(byChecksum.code, 3, byChecksum.stderr)
    const [finding] = findings(byChecksum)
    assert.equal(finding?.kind, 'digest-mismatch')
    assert.match(finding!.message, new RegExp(`has sha256 ${sha(tampered)} by the service's own checksum, but its sidecar says ${sha(amd64)}`))
  })

  it("verify --at trusts S3's own ChecksumSHA256 without downloading, and calls it ok", async () => {
    const store = await storeAt(`s3://${bucket}`)
    await store.write(`${V}/amd64/busybox`, amd64, {precondition: 'absent', sha256: sha(amd64), size: amd64.length})
    await store.write(`${V}/amd64/busybox.sha256`, Buffer.from(sidecarOf(amd64)), {precondition: 'absent', sha256: sha(sidecarOf(amd64)), size: sidecarOf(amd64).length})
    const result = await runCli(['verify', '--at', `s3://${bucket}`, '--metadata-only'], {env: s3.env})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /^OK +1\.35\.0\/amd64 +\S+ matches its sidecar \(the service's sha256; ELF header not read\)$/m)
  })

  it('copy-public-builds: a tampered destination object with the right metadata is a conflict (exit 5), never skipped, and its sidecar is held', async () => {
    const src = await tempDir('claims-src')
    await mkdir(path.join(src, 'busybox', V, 'amd64'), {recursive: true})
    await writeFile(path.join(src, 'busybox', V, 'amd64', 'busybox'), amd64)
    await writeFile(path.join(src, 'busybox', V, 'amd64', 'busybox.sha256'), sidecarOf(amd64))
    await s3Put(bucket, `${V}/amd64/busybox`, tampered, {metadataSha256: sha(amd64)})
    const result = await runCli(['copy-public-builds', '--from', `file://${src}`, '--to', `busybox=s3://${bucket}`, '--json'], {env: s3.env})
    assert.equal(result.code, 5, result.stderr)
    const objects = (JSON.parse(result.stdout) as {objects: Array<{key: string; action: string}>}).objects
    assert.deepEqual(objects.map((o) => [o.key, o.action]), [[`${V}/amd64/busybox`, 'conflict'], [`${V}/amd64/busybox.sha256`, 'held']])
    const store = await storeAt(`s3://${bucket}`)
    assert.equal(await store.stat(`${V}/amd64/busybox.sha256`), undefined, 'no sidecar vouches for the tampered object')
  })

  it('upload: a tampered object with the right metadata is a conflict (exit 5), not "already published", and no sidecar is written', async () => {
    const builds = await tempDir('claims-builds')
    await mkdir(path.join(builds, V, 'amd64'), {recursive: true})
    await writeFile(path.join(builds, V, 'amd64', 'busybox'), amd64)
    await s3Put(bucket, `${V}/amd64/busybox`, tampered, {metadataSha256: sha(amd64)})
    const result = await runCli(['upload', '--version', V, '--arch', 'amd64', '--from', builds, '--to', `s3://${bucket}`], {env: {...s3.env, TMPDIR: await tempDir('claims-tmp')}})
    assert.equal(result.code, 5, result.stderr)
    assert.match(result.stderr, /already holds different content/)
    const store = await storeAt(`s3://${bucket}`)
    assert.equal(await store.stat(`${V}/amd64/busybox.sha256`), undefined)
  })
})

describe('fetch without a sidecar: the service checksum, or a refusal', () => {
  let server: ArtifactServer
  let dir: string
  const KERNEL = '/public-builds/kernels/6.1.102/amd64/vmlinux.bin'
  const kernel = randomBytes(300_000)
  const html = Buffer.from('<!doctype html><html><body><h1>Sign in to continue</h1></body></html>\n')

  before(async () => {
    server = await startArtifactServer()
  })

  after(async () => {
    await server.close()
  })

  beforeEach(async () => {
    server.clear()
    dir = await tempDir('fetch-unverified')
  })

  const out = (): string => path.join(dir, 'vmlinux.bin')
  const fetchKernel = (...extra: string[]): Promise<CliResult> =>
    runCli(['fetch', 'kernel', '--version', '6.1.102', '--arch', 'amd64', '--from', `${server.url}/public-builds`, '--out', out(), ...extra], {cwd: dir})

  it('refuses an HTML page saved as vmlinux.bin when nothing can verify it: exit 3, nothing at --out', async () => {
    server.put(KERNEL, html, {headers: {'content-type': 'text/html'}})
    for (const env of [{}, {E2B_ARTIFACTS_FAST_PATH: '0'}]) {
      const result = await runCli(['fetch', 'kernel', '--version', '6.1.102', '--arch', 'amd64', '--from', `${server.url}/public-builds`, '--out', out()], {cwd: dir, env})
      assert.equal(result.code, 3, result.stderr)
      assert.match(result.stderr, /^e2b-artifacts: error: \S+\/kernels\/6\.1\.102\/amd64\/vmlinux\.bin has no sidecar and the service reports no checksum of it, so nothing can verify the bytes received: not installed; pass --sha256 HEX, or --allow-unverified to install it anyway\n$/)
      assert.deepEqual(await readdir(dir), [], 'no file and no temp file')
    }
  })

  it('installs it with --allow-unverified, with a warning, through the fast path and oclif', async () => {
    server.put(KERNEL, html)
    for (const env of [{}, {E2B_ARTIFACTS_FAST_PATH: '0'}]) {
      const result = await runCli(
        ['fetch', 'kernel', '--version', '6.1.102', '--arch', 'amd64', '--from', `${server.url}/public-builds`, '--out', out(), '--allow-unverified', '--force', '--json'],
        {cwd: dir, env},
      )
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /^warning: \S+vmlinux\.bin has no sidecar, no --sha256 pin and no checksum from the service: installed unverified, as --allow-unverified asked$/m)
      assert.deepEqual(JSON.parse(result.stdout).verifiedBy, [])
      assert.deepEqual(await readFile(out()), html)
    }
  })

  it('installs a kernel whose bytes match x-goog-hash, verified by the service checksum', async () => {
    for (const header of [googHashes(kernel).join(','), googHashes(kernel)[1]]) {
      server.put(KERNEL, kernel, {headers: {'x-goog-hash': header}})
      const result = await fetchKernel('--force', '--json')
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(JSON.parse(result.stdout).verifiedBy, ['service-checksum'])
      assert.equal(result.stderr, '')
      assert.deepEqual(await readFile(out()), kernel)
    }
  })

  it('refuses bytes that do not match x-goog-hash (crc32c, or md5 alone): exit 3, nothing installed', async () => {
    for (const header of [googHashes(kernel).join(','), googHashes(kernel)[1]]) {
      server.put(KERNEL, kernel, {headers: {'x-goog-hash': header}})
      server.fault(KERNEL, [{kind: 'flip'}])
      const result = await fetchKernel()
      assert.equal(result.code, 3, result.stderr)
      const digest = header.startsWith('crc32c') ? 'crc32c' : 'md5'
      assert.match(result.stderr, new RegExp(`vmlinux\\.bin: the bytes received have ${digest} \\S+, but the service's own checksum \\(x-goog-hash\\) says \\S+: refused\\n$`))
      assert.deepEqual(await readdir(dir), [])
    }
  })

  it('installs with a --sha256 pin and no sidecar, and refuses a pin the bytes contradict', async () => {
    server.put(KERNEL, html)
    const pinned = await fetchKernel('--sha256', sha(html), '--json')
    assert.equal(pinned.code, 0, pinned.stderr)
    assert.deepEqual(JSON.parse(pinned.stdout).verifiedBy, ['pin'])
    const wrong = await fetchKernel('--sha256', sha(kernel), '--force')
    assert.equal(wrong.code, 3, wrong.stderr)
  })

  it('verifies a sidecar-less kernel from gs:// and s3:// against the service checksum (md5, ChecksumSHA256, a plain ETag)', async () => {
    const gcsBucket = uniqueBucket('kernels')
    await gcs.createBucket(gcsBucket)
    await gcsPutPlain(gcsBucket, 'kernels/6.1.102/amd64/vmlinux.bin', kernel)
    const s3Bucket = uniqueBucket('kernels')
    await s3.createBucket(s3Bucket)
    await s3Put(s3Bucket, 'kernels/6.1.102/amd64/vmlinux.bin', kernel, {checksum: true})
    const etagOnly = uniqueBucket('kernels')
    await s3.createBucket(etagOnly)
    await s3Put(etagOnly, 'kernels/6.1.102/amd64/vmlinux.bin', kernel)
    for (const [from, env] of [[`gs://${gcsBucket}`, gcs.env], [`s3://${s3Bucket}`, s3.env], [`s3://${etagOnly}`, s3.env]] as const) {
      const result = await runCli(['fetch', 'kernel', '--version', '6.1.102', '--arch', 'amd64', '--from', from, '--out', out(), '--force', '--json'], {cwd: dir, env})
      assert.equal(result.code, 0, `${from}: ${result.stderr}`)
      assert.deepEqual(JSON.parse(result.stdout).verifiedBy, ['service-checksum'], from)
      assert.deepEqual(await readFile(out()), kernel)
    }
  })

  it('refuses gs:// bytes that do not match the object metadata (through the GCS SDK): exit 3', async () => {
    const bucket = uniqueBucket('flipped')
    await gcs.createBucket(bucket)
    await gcsPutPlain(bucket, 'kernels/6.1.102/amd64/vmlinux.bin', kernel)
    // A loopback hop in front of fake-gcs-server that flips one byte of every media download, as a broken path would.
    const hop = http.createServer((request, response) => {
      void (async () => {
        const upstream = await fetch(`${gcs.endpoint}${request.url}`, {headers: {accept: request.headers.accept ?? '*/*'}, method: request.method})
        const body = Buffer.from(await upstream.arrayBuffer())
        if (/[?&]alt=media/.test(request.url ?? '') && body.length > 0) body[body.length >> 1] = body[body.length >> 1]! ^ 0xff
        const headers = Object.fromEntries([...upstream.headers].filter(([name]) => !['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(name)))
        response.writeHead(upstream.status, {...headers, 'content-length': String(body.length)})
        response.end(body)
      })().catch((error: unknown) => response.destroy(error as Error))
    })
    await new Promise<void>((resolve) => {
      hop.listen(0, '127.0.0.1', resolve)
    })
    try {
      const endpoint = `http://127.0.0.1:${(hop.address() as AddressInfo).port}`
      const result = await runCli(['fetch', 'kernel', '--version', '6.1.102', '--arch', 'amd64', '--from', `gs://${bucket}`, '--out', out()], {
        cwd: dir,
        env: {E2B_ARTIFACTS_GCS_ENDPOINT: endpoint},
      })
      assert.equal(result.code, 3, result.stderr)
      assert.match(result.stderr, /vmlinux\.bin: the bytes received have crc32c \S+, but the service's own checksum \(the object metadata\) says \S+: refused\n$/)
      assert.deepEqual(await readdir(dir), [])
    } finally {
      hop.closeAllConnections()
      await new Promise((resolve) => {
        hop.close(resolve)
      })
    }
  })
})
