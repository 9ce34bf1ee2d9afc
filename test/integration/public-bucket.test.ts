/**
 * The public bucket as upstream runs it today (issue 9): its name lives in one
 * place (`e2b-artifact-binaries`, or E2B_ARTIFACTS_PUBLIC_BUCKET) and every
 * default derives from it; it is read and listed anonymously through
 * `https://storage.googleapis.com/BUCKET`, which E2B_ARTIFACTS_GCS_ENDPOINT
 * points at fake-gcs-server here, with a recording reverse proxy in between to
 * show what reaches the server; and fetch and copy-public-builds each have a
 * variable of their own for their default source.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {parseLocation} from '../../src/core/location.js'
import {openStore} from '../../src/stores/open-store.js'
import {type ObjectInfo, isRefused} from '../../src/stores/store.js'
import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {type CliResult, runCli} from '../support/cli.js'
import {type GcsServer, type S3Server, gcsServer, s3Server, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {ensureBucket, putRawObject} from '../support/gcs-objects.js'
import {nodeHooks} from '../support/node-hooks.js'
import {type RecordingProxy, startRecordingProxy} from '../support/recording-proxy.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const md5 = (data: Buffer): string => createHash('md5').update(data).digest('base64')
const sidecarOf = (body: Buffer, name: string): Buffer => Buffer.from(`${sha(body)}  ${name}\n`)

let gcs: GcsServer
let s3: S3Server
let amd64: Buffer
let arm64: Buffer
const recorders: RecordingProxy[] = []

before(async () => {
  ;[gcs, s3, amd64, arm64] = await Promise.all([gcsServer(), s3Server(), busyboxBytes('amd64'), busyboxBytes('arm64')])
})

after(async () => {
  await Promise.all(recorders.splice(0).map((recorder) => recorder.close()))
  await removeTempDirs()
})

async function recorder(): Promise<RecordingProxy> {
  const started = await startRecordingProxy(gcs.endpoint)
  recorders.push(started)
  return started
}

/**
 * A public bucket as upstream fills it (`gsutil cp`, no sha256 metadata):
 * busybox with sidecars; kernels and Firecracker without, with their
 * companion files, one kernel in the legacy flat layout.
 */
async function seedPublic(bucket: string): Promise<Map<string, Buffer>> {
  await ensureBucket(gcs, bucket)
  const objects = new Map<string, Buffer>()
  const put = (key: string, body: Buffer): void => void objects.set(key, body)
  put(`busybox/${V}/amd64/busybox`, amd64)
  put(`busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64, 'busybox'))
  put(`busybox/${V}/arm64/busybox`, arm64)
  put(`busybox/${V}/arm64/busybox.sha256`, sidecarOf(arm64, 'busybox'))
  put('kernels/vmlinux-6.1.158/amd64/vmlinux.bin', randomBytes(300_000))
  put('kernels/vmlinux-6.1.158/amd64/vmlinux.debug', randomBytes(120_000))
  put('kernels/vmlinux-6.1.102/vmlinux.bin', randomBytes(200_000))
  put('firecrackers/v1.12.1_210cbac/amd64/firecracker', Buffer.concat([amd64.subarray(0, 64), randomBytes(100_000)]))
  put('firecrackers/v1.12.1_210cbac/amd64/firecracker-debug', Buffer.concat([amd64.subarray(0, 64), randomBytes(90_000)]))
  for (const [key, body] of objects) await putRawObject(gcs, bucket, key, body)
  return objects
}

/** The environment with which the CLI sees only what a test gives it: no default-source variables. */
function publicEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  return {E2B_ARTIFACTS_COPY_FROM: undefined, E2B_ARTIFACTS_PUBLIC_URL: undefined, ...extra}
}

function json<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}

async function gcsKeys(bucket: string): Promise<string[]> {
  const response = await fetch(`${gcs.endpoint}/storage/v1/b/${bucket}/o`)
  const listing = (await response.json()) as {items?: Array<{name: string}>}
  return (listing.items ?? []).map((item) => item.name).sort()
}

describe('the public bucket: one name, and every default derives from it', () => {
  it('upload with no --to publishes to gs:// of E2B_ARTIFACTS_PUBLIC_BUCKET', async () => {
    const bucket = uniqueBucket('pub-upload')
    await gcs.createBucket(bucket)
    const builds = await tempDir('public-upload')
    for (const [arch, body] of [['amd64', amd64], ['arm64', arm64]] as const) {
      await mkdir(path.join(builds, V, arch), {recursive: true})
      await writeFile(path.join(builds, V, arch, 'busybox'), body)
    }
    const result = await runCli(['upload', '--version', V, '--from', builds], {env: {...gcs.env, E2B_ARTIFACTS_PUBLIC_BUCKET: bucket}, timeoutMs: 60_000})
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(await gcsKeys(bucket), [`busybox/${V}/amd64/busybox`, `busybox/${V}/amd64/busybox.sha256`, `busybox/${V}/arm64/busybox`, `busybox/${V}/arm64/busybox.sha256`])
  })

  it('fetch with no --from reads https://storage.googleapis.com/ of E2B_ARTIFACTS_PUBLIC_BUCKET, anonymously', async () => {
    const bucket = uniqueBucket('pub-fetch')
    await seedPublic(bucket)
    const via = await recorder()
    const dir = await tempDir('public-fetch')
    // Nothing but loopback resolves: a default that escaped the emulator override would fail, not reach Google.
    const hooks = await nodeHooks(await tempDir('public-fetch-hooks'), {loopbackOnly: true})
    const out = path.join(dir, 'busybox')
    const result = await runCli(['fetch', '--version', V, '--arch', 'arm64', '--out', out], {
      cwd: dir,
      env: publicEnv({E2B_ARTIFACTS_GCS_ENDPOINT: via.url, E2B_ARTIFACTS_PUBLIC_BUCKET: bucket, NODE_OPTIONS: hooks.nodeOptions}),
    })
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(await readFile(out), arm64)
    assert.match(result.stderr, new RegExp(`from https://storage\\.googleapis\\.com/${bucket}/busybox/${V}/arm64/busybox`))
    assert.deepEqual(await hooks.refused(), [])
    assert.deepEqual(via.requests.map((r) => `${r.method} ${r.url}`).sort(), [`GET /${bucket}/busybox/${V}/arm64/busybox`, `GET /${bucket}/busybox/${V}/arm64/busybox.sha256`])
    assert.ok(via.requests.every((r) => r.headers.authorization === undefined))
  })
})

describe('the anonymous view of a public GCS bucket', () => {
  it('copy-public-builds with no --from lists and reads it with no credentials: stale ADC present, no Authorization header, no GCS SDK', async () => {
    const bucket = uniqueBucket('pub-anon')
    const objects = await seedPublic(bucket)
    const via = await recorder()
    const dir = await tempDir('public-anon')
    // Stale credentials: any use of Application Default Credentials would fail on them.
    const stale = path.join(dir, 'stale-adc.json')
    await writeFile(stale, JSON.stringify({client_id: 'stale', client_secret: 'stale', refresh_token: 'revoked', type: 'authorized_user'}))
    const hooks = await nodeHooks(await tempDir('public-anon-hooks'), {loopbackOnly: true, record: /@google-cloud[\\/]storage|google-auth-library|gcs-store/})
    const prefix = `${uniqueBucket('anon')}-`
    for (const suffix of ['fc-busybox', 'fc-kernels', 'fc-versions']) await s3.createBucket(`${prefix}${suffix}`)
    const env = publicEnv({...s3.env, E2B_ARTIFACTS_GCS_ENDPOINT: via.url, E2B_ARTIFACTS_PUBLIC_BUCKET: bucket, GOOGLE_APPLICATION_CREDENTIALS: stale, NODE_OPTIONS: hooks.nodeOptions})

    const result = await runCli(['copy-public-builds', '--provider', 'aws', '--bucket-prefix', prefix, '--json'], {env, timeoutMs: 120_000})
    assert.equal(result.code, 0, result.stderr)
    const report = json<{from: string; summary: {copied: number}; objects: Array<{key: string; action: string}>}>(result)
    assert.equal(report.from, `https://storage.googleapis.com/${bucket}`)
    assert.equal(report.summary.copied, objects.size)
    assert.deepEqual(await hooks.loaded(), [], 'neither the GCS SDK nor Google auth is loaded')
    assert.deepEqual(await hooks.refused(), [])
    assert.ok(via.requests.length > 0)
    assert.deepEqual(via.requests.filter((r) => r.headers.authorization !== undefined), [], 'no request carries an Authorization header')
    const listings = via.requests.filter((r) => r.url.startsWith(`/storage/v1/b/${bucket}/o?`)).map((r) => new URL(r.url, 'http://x').searchParams.get('prefix'))
    assert.deepEqual(listings.sort(), ['busybox/', 'firecrackers/', 'kernels/'])

    // Every object arrived, companions and the legacy flat kernel included; a re-run copies nothing.
    for (const [key, body] of objects) {
      const [top, ...rest] = key.split('/')
      const suffix = {busybox: 'fc-busybox', firecrackers: 'fc-versions', kernels: 'fc-kernels'}[top!]!
      const store = await openStore(parseLocation(`s3://${prefix}${suffix}`))
      Object.assign(process.env, s3.env)
      try {
        const info = await store.stat(rest.join('/'))
        assert.equal(info?.sha256, sha(body), `${key} copied with its sha256`)
      } finally {
        await store.close?.()
      }
    }
    const again = await runCli(['copy-public-builds', '--provider', 'aws', '--bucket-prefix', prefix, '--json'], {env})
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(json<{summary: {copied: number; skipped: number}}>(again).summary.copied, 0)
  })

  it('copies into GCS env buckets server side: the destination credentials read the public objects', async () => {
    const bucket = uniqueBucket('pub-gcp')
    const objects = await seedPublic(bucket)
    const prefix = `${uniqueBucket('gcp')}-`
    for (const suffix of ['fc-busybox', 'fc-kernels', 'fc-versions']) await gcs.createBucket(`${prefix}${suffix}`)
    const env = publicEnv({...gcs.env, E2B_ARTIFACTS_PUBLIC_BUCKET: bucket})
    const result = await runCli(['copy-public-builds', '--provider', 'gcp', '--bucket-prefix', prefix, '--json'], {env})
    assert.equal(result.code, 0, result.stderr)
    const report = json<{summary: {copied: number}; objects: Array<{key: string; method?: string}>}>(result)
    assert.equal(report.summary.copied, objects.size)
    for (const object of report.objects.filter((o) => !o.key.endsWith('.sha256'))) assert.equal(object.method, 'server-side', object.key)
    assert.deepEqual(await gcsKeys(`${prefix}fc-kernels`), ['vmlinux-6.1.102/vmlinux.bin', 'vmlinux-6.1.158/amd64/vmlinux.bin', 'vmlinux-6.1.158/amd64/vmlinux.debug'])
    const again = await runCli(['copy-public-builds', '--provider', 'gcp', '--bucket-prefix', prefix, '--json'], {env})
    assert.equal(again.code, 0, again.stderr)
    assert.equal(json<{summary: {copied: number; skipped: number}}>(again).summary.skipped, objects.size)
  })

  it('lists through Store.list with the md5 and crc32c that GCS reports, and stats the same', async () => {
    const bucket = uniqueBucket('pub-list')
    const objects = await seedPublic(bucket)
    Object.assign(process.env, {E2B_ARTIFACTS_GCS_ENDPOINT: gcs.endpoint})
    const store = await openStore(parseLocation(`https://storage.googleapis.com/${bucket}`), 'kernels')
    const listed: ObjectInfo[] = []
    for await (const object of store.list('')) if (!isRefused(object)) listed.push(object)
    assert.deepEqual(listed.map((o) => o.key).sort(), ['vmlinux-6.1.102/vmlinux.bin', 'vmlinux-6.1.158/amd64/vmlinux.bin', 'vmlinux-6.1.158/amd64/vmlinux.debug'])
    for (const object of listed) {
      const body = objects.get(`kernels/${object.key}`)!
      assert.equal(object.size, body.length)
      assert.equal(object.md5, md5(body))
      assert.match(object.crc32c ?? '', /^[A-Za-z0-9+/]{6}==$/)
      assert.equal(object.sha256, undefined, 'gsutil-style objects carry no sha256 metadata')
      assert.deepEqual(await store.stat(object.key), object)
    }
    assert.equal(await store.stat('vmlinux-0.0.0/vmlinux.bin'), undefined)
  })

  it('verify --against lists it like a bucket: no --version needed', async () => {
    const bucket = uniqueBucket('pub-against')
    await seedPublic(bucket)
    const mirror = await tempDir('public-against')
    for (const [arch, body] of [['amd64', amd64], ['arm64', arm64]] as const) {
      await mkdir(path.join(mirror, 'busybox', V, arch), {recursive: true})
      await writeFile(path.join(mirror, 'busybox', V, arch, 'busybox'), body)
      await writeFile(path.join(mirror, 'busybox', V, arch, 'busybox.sha256'), sidecarOf(body, 'busybox'))
    }
    const result = await runCli(['verify', '--against', `https://storage.googleapis.com/${bucket}`, '--against', mirror], {env: {E2B_ARTIFACTS_GCS_ENDPOINT: gcs.endpoint}})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout + result.stderr, new RegExp(`busybox ${V.replaceAll('.', '\\.')}/amd64 agrees in 2 locations`))
    assert.match(result.stdout + result.stderr, new RegExp(`busybox ${V.replaceAll('.', '\\.')}/arm64 agrees in 2 locations`))
  })
})

describe('fetch and copy-public-builds each have their own default-source variable', () => {
  let mirror: ArtifactServer

  before(async () => {
    mirror = await startArtifactServer({tls: true})
  })
  after(() => mirror.close())

  it('an https mirror in E2B_ARTIFACTS_PUBLIC_URL serves fetch, and copy-public-builds still lists the public bucket', async () => {
    const bucket = uniqueBucket('pub-split')
    const objects = await seedPublic(bucket)
    mirror.put(`/mirror/busybox/${V}/amd64/busybox`, amd64)
    mirror.put(`/mirror/busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64, 'busybox'))
    const env = {
      E2B_ARTIFACTS_COPY_FROM: undefined,
      E2B_ARTIFACTS_GCS_ENDPOINT: gcs.endpoint,
      E2B_ARTIFACTS_PUBLIC_BUCKET: bucket,
      E2B_ARTIFACTS_PUBLIC_URL: `${mirror.url}/mirror`,
      NODE_EXTRA_CA_CERTS: mirror.caFile,
    }
    const dir = await tempDir('public-split')
    const fetched = await runCli(['fetch', '--version', V, '--arch', 'amd64', '--out', path.join(dir, 'bin', 'busybox')], {cwd: dir, env})
    assert.equal(fetched.code, 0, fetched.stderr)
    assert.deepEqual(mirror.requests.map((r) => `${r.method} ${r.path}`).sort(), [`GET /mirror/busybox/${V}/amd64/busybox`, `GET /mirror/busybox/${V}/amd64/busybox.sha256`])

    const host = path.join(dir, 'fc-busybox')
    const copied = await runCli(['copy-public-builds', '--to', `busybox=file://${host}`, '--json'], {env})
    assert.equal(copied.code, 0, copied.stderr)
    assert.equal(json<{from: string}>(copied).from, `https://storage.googleapis.com/${bucket}`)
    assert.deepEqual(await readFile(path.join(host, V, 'arm64', 'busybox')), objects.get(`busybox/${V}/arm64/busybox`))
  })

  it('E2B_ARTIFACTS_COPY_FROM sets the default source of copy-public-builds alone', async () => {
    const bucket = uniqueBucket('pub-copyfrom')
    await seedPublic(bucket)
    const dir = await tempDir('public-copyfrom')
    const host = path.join(dir, 'fc-kernels')
    const result = await runCli(['copy-public-builds', '--to', `kernel=file://${host}`, '--json'], {
      env: {...gcs.env, E2B_ARTIFACTS_COPY_FROM: `gs://${bucket}`, E2B_ARTIFACTS_PUBLIC_BUCKET: 'e2b-no-such-bucket', E2B_ARTIFACTS_PUBLIC_URL: undefined},
    })
    assert.equal(result.code, 0, result.stderr)
    assert.equal(json<{from: string}>(result).from, `gs://${bucket}`)
    assert.ok((await stat(path.join(host, 'vmlinux-6.1.102', 'vmlinux.bin'))).isFile())
  })
})
