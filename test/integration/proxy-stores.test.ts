/**
 * Every store honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY (either case), by
 * curl's rules, through the real tinyproxy (.ci/start-servers.sh, or one this
 * process starts): https through a CONNECT tunnel, plain http forwarded with
 * the absolute URL, NO_PROXY hosts reached directly. The proxy's request log
 * is the evidence. Uploads larger than 1 MB go through it to S3 over plain
 * http and over https, and must arrive byte for byte.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import https from 'node:https'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {type CliResult, runCli} from '../support/cli.js'
import {type GcsServer, type S3Server, type S3TlsServer, gcsServer, s3Server, s3TlsServer, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {ensureBucket, putRawObject} from '../support/gcs-objects.js'
import {nodeHooks} from '../support/node-hooks.js'
import {type LoopbackProxy, type ProxiedRequest, proxyServer, refusingProxyServer} from '../support/proxy.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const sidecarOf = (body: Buffer, name: string): Buffer => Buffer.from(`${sha(body)}  ${name}\n`)
const portOf = (url: string): number => Number(new URL(url).port)

let proxy: LoopbackProxy
let plain: ArtifactServer
let secure: ArtifactServer
let gcs: GcsServer
let s3: S3Server
let s3tls: S3TlsServer
let amd64: Buffer

before(async () => {
  ;[proxy, plain, secure, gcs, s3, s3tls, amd64] = await Promise.all([
    proxyServer(),
    startArtifactServer(),
    startArtifactServer({tls: true}),
    gcsServer(),
    s3Server(),
    s3TlsServer(),
    busyboxBytes('amd64'),
  ])
  for (const server of [plain, secure]) {
    server.put(`/pub/busybox/${V}/amd64/busybox`, amd64)
    server.put(`/pub/busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64, 'busybox'))
  }
})

after(async () => {
  await Promise.all([plain.close(), secure.close()])
  await removeTempDirs()
})

/** The requests the proxy logged while `run` ran. */
async function through<T>(run: () => Promise<T>): Promise<{logged: ProxiedRequest[]; value: T}> {
  const mark = proxy.mark()
  const value = await run()
  return {logged: proxy.requestsSince(mark), value}
}

async function fetchFrom(from: string, env: Record<string, string | undefined>): Promise<{result: CliResult; out: string}> {
  const dir = await tempDir('proxy-fetch')
  const out = path.join(dir, 'busybox')
  const result = await runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', from, '--out', out], {cwd: dir, env: {NODE_EXTRA_CA_CERTS: secure.caFile, ...env}})
  return {out, result}
}

/** A file:// public layout with a kernel larger than 1 MB (3 MB: above the SDK's 2 MB Expect: 100-continue threshold too). */
async function publicTree(): Promise<{root: string; kernel: Buffer}> {
  const root = await tempDir('proxy-public')
  const kernel = randomBytes(3 * 1024 * 1024)
  await mkdir(path.join(root, 'kernels', 'vmlinux-6.1.102', 'amd64'), {recursive: true})
  await writeFile(path.join(root, 'kernels', 'vmlinux-6.1.102', 'amd64', 'vmlinux.bin'), kernel)
  await writeFile(path.join(root, 'kernels', 'vmlinux-6.1.102', 'amd64', 'vmlinux.bin.sha256'), sidecarOf(kernel, 'vmlinux.bin'))
  return {kernel, root}
}

/** An S3 object and its sha256 metadata, read without any proxy (and with the test CA for TLS). */
async function s3Object(server: S3Server, bucket: string, key: string, ca?: string): Promise<{body: Buffer; sha256?: string}> {
  const {GetObjectCommand, S3Client} = await import('@aws-sdk/client-s3')
  const client = new S3Client({
    credentials: {accessKeyId: server.accessKey, secretAccessKey: server.secretKey},
    endpoint: server.endpoint,
    forcePathStyle: true,
    region: server.region,
    ...(ca ? {requestHandler: {httpsAgent: new https.Agent({ca})}} : {}),
  })
  try {
    const response = await client.send(new GetObjectCommand({Bucket: bucket, Key: key}))
    return {body: Buffer.from(await response.Body!.transformToByteArray()), sha256: response.Metadata?.sha256}
  } finally {
    client.destroy()
  }
}

describe('proxies: the HTTP store (the default fetch path)', () => {
  it('tunnels https through CONNECT', async () => {
    secure.resetLog()
    const {logged, value} = await through(() => fetchFrom(`${secure.url}/pub`, proxy.env()))
    assert.equal(value.result.code, 0, value.result.stderr)
    assert.deepEqual(await readFile(value.out), amd64)
    assert.ok(logged.length >= 1)
    assert.deepEqual([...new Set(logged.map((r) => r.summary))], [`CONNECT 127.0.0.1:${portOf(secure.url)}`])
    assert.equal(secure.requests.length, 2, 'the binary and its sidecar reached the server through the tunnel')
  })

  it('forwards plain http with the absolute URL, as curl does', async () => {
    const {logged, value} = await through(() => fetchFrom(`${plain.url}/pub`, proxy.env()))
    assert.equal(value.result.code, 0, value.result.stderr)
    assert.deepEqual(logged.map((r) => r.summary).sort(), [`GET ${plain.url}/pub/busybox/${V}/amd64/busybox`, `GET ${plain.url}/pub/busybox/${V}/amd64/busybox.sha256`])
  })

  it('reaches NO_PROXY hosts directly: a host, or a host:port entry (loopback is not exempt by itself)', async () => {
    const bypassed = await through(() => fetchFrom(`${secure.url}/pub`, proxy.env({noProxy: '127.0.0.1'})))
    assert.equal(bypassed.value.result.code, 0, bypassed.value.result.stderr)
    assert.deepEqual(bypassed.logged, [])

    const byPort = `example.com, 127.0.0.1:${portOf(plain.url)}`
    const plainDirect = await through(() => fetchFrom(`${plain.url}/pub`, proxy.env({noProxy: byPort})))
    assert.equal(plainDirect.value.result.code, 0, plainDirect.value.result.stderr)
    assert.deepEqual(plainDirect.logged, [])
    const secureProxied = await through(() => fetchFrom(`${secure.url}/pub`, proxy.env({noProxy: byPort})))
    assert.equal(secureProxied.value.result.code, 0, secureProxied.value.result.stderr)
    assert.ok(secureProxied.logged.some((r) => r.summary === `CONNECT 127.0.0.1:${portOf(secure.url)}`), 'another port of the same host still goes through the proxy')
  })

  it('honours upper-case variables alone', async () => {
    const {logged, value} = await through(() => fetchFrom(`${secure.url}/pub`, {HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com'}))
    assert.equal(value.result.code, 0, value.result.stderr)
    assert.ok(logged.some((r) => r.summary === `CONNECT 127.0.0.1:${portOf(secure.url)}`))
  })

  it('an up-to-date fetch with proxy variables set loads neither undici nor its proxy agent', async () => {
    const hooks = await nodeHooks(await tempDir('proxy-noop-hooks'), {record: /[\\/]undici[\\/]/})
    const dir = await tempDir('proxy-noop')
    const args = ['fetch', '--version', V, '--arch', 'amd64', '--from', `${secure.url}/pub`, '--out', path.join(dir, 'busybox')]
    const env = {...proxy.env(), NODE_EXTRA_CA_CERTS: secure.caFile, NODE_OPTIONS: hooks.nodeOptions}
    const first = await runCli(args, {cwd: dir, env})
    assert.equal(first.code, 0, first.stderr)
    assert.ok((await hooks.loaded()).some((url) => url.endsWith('/undici/index.js')), 'the download loads undici with its proxy agent (the recorder works)')
    await hooks.reset()
    const mark = proxy.mark()
    const second = await runCli(args, {cwd: dir, env})
    assert.equal(second.code, 0, second.stderr)
    assert.match(second.stderr, /up to date/)
    assert.deepEqual(await hooks.loaded(), [])
    assert.deepEqual(proxy.requestsSince(mark), [])
  })

  it('a proxy that refuses the tunnel gets one clear error line', async () => {
    const refusing = await refusingProxyServer()
    const {result} = await fetchFrom(`${secure.url}/pub`, refusing.env())
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, /^e2b-artifacts: error: GET https:\/\/127\.0\.0\.1:\d+\/pub\/busybox\/\S+: the proxy refused the tunnel \(HTTP 403 to CONNECT\): check HTTPS_PROXY and NO_PROXY\n$/)
  })
})

describe('proxies: GitHub release downloads', () => {
  it('go through the proxy, to the API host and to the asset host', async () => {
    const arm64 = await busyboxBytes('arm64')
    secure.addRelease({
      assets: [
        {body: amd64, name: `busybox_v${V}_amd64`},
        {body: arm64, name: `busybox_v${V}_arm64`},
        {body: `${sha(amd64)}  busybox_v${V}_amd64\n${sha(arm64)}  busybox_v${V}_arm64\n`, name: 'SHA256SUMS'},
      ],
      owner: 'e2b-dev',
      repo: 'fc-busybox',
      tag: `v${V}`,
    })
    const dest = await tempDir('proxy-github')
    const {logged, value} = await through(() =>
      runCli(['upload', '--version', V, '--to', dest], {
        env: {...proxy.env(), GITHUB_API_URL: `${secure.url}/api`, GITHUB_SERVER_URL: secure.url, NODE_EXTRA_CA_CERTS: secure.caFile},
        timeoutMs: 60_000,
      }),
    )
    assert.equal(value.code, 0, value.stderr)
    assert.deepEqual(await readFile(path.join(dest, 'busybox', V, 'arm64', 'busybox')), arm64)
    const targets = new Set(logged.map((r) => r.summary))
    assert.ok(targets.has(`CONNECT 127.0.0.1:${portOf(secure.url)}`), 'the API through the proxy')
    assert.ok(targets.has(`CONNECT 127.0.0.1:${portOf(secure.assetsUrl)}`), 'the asset host through the proxy')
    assert.deepEqual([...targets].filter((t) => !t.startsWith('CONNECT 127.0.0.1:')), [])
  })
})

describe('proxies: Google Cloud Storage', () => {
  let bucket: string

  before(async () => {
    bucket = uniqueBucket('proxy-gcs')
    await ensureBucket(gcs, bucket)
    await putRawObject(gcs, bucket, `busybox/${V}/amd64/busybox`, amd64)
    await putRawObject(gcs, bucket, `busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64, 'busybox'))
  })

  it('the anonymous view: its listing and its objects are forwarded', async () => {
    const host = path.join(await tempDir('proxy-anon'), 'fc-busybox')
    const {logged, value} = await through(() =>
      runCli(['copy-public-builds', '--from', `https://storage.googleapis.com/${bucket}`, '--to', `busybox=file://${host}`], {env: {...proxy.env(), E2B_ARTIFACTS_GCS_ENDPOINT: gcs.endpoint}}),
    )
    assert.equal(value.code, 0, value.stderr)
    assert.deepEqual(await readFile(path.join(host, V, 'amd64', 'busybox')), amd64)
    const summaries = logged.map((r) => r.summary)
    assert.ok(summaries.some((s) => s.startsWith(`GET ${gcs.endpoint}/storage/v1/b/${bucket}/o?`)), summaries.join('\n'))
    assert.ok(summaries.includes(`GET ${gcs.endpoint}/${bucket}/busybox/${V}/amd64/busybox`), summaries.join('\n'))
    assert.ok(logged.every((r) => r.port === portOf(gcs.endpoint)))
  })

  it('gs:// through the GCS SDK, which honours the same variables', async () => {
    const {logged, value} = await through(() => fetchFrom(`gs://${bucket}`, {...proxy.env(), ...gcs.env}))
    assert.equal(value.result.code, 0, value.result.stderr)
    assert.deepEqual(await readFile(value.out), amd64)
    assert.ok(logged.length > 0, 'requests went through the proxy')
    assert.ok(logged.every((r) => r.port === portOf(gcs.endpoint)), logged.map((r) => r.summary).join('\n'))
  })

  it('NO_PROXY names the emulator: nothing goes through the proxy', async () => {
    const {logged, value} = await through(() => fetchFrom(`gs://${bucket}`, {...proxy.env({noProxy: '127.0.0.1'}), ...gcs.env}))
    assert.equal(value.result.code, 0, value.result.stderr)
    assert.deepEqual(logged, [])
  })
})

describe('proxies: S3, uploads larger than 1 MB included', () => {
  async function copyKernel(server: S3Server, env: Record<string, string | undefined>): Promise<{logged: ProxiedRequest[]; result: CliResult; bucket: string; kernel: Buffer}> {
    const {kernel, root} = await publicTree()
    const bucket = `${uniqueBucket('proxy-s3')}-fc-kernels`
    await server.createBucket(bucket)
    const {logged, value} = await through(() => runCli(['copy-public-builds', '--from', root, '--to', `kernel=s3://${bucket}`], {env: {...server.env, ...env}, timeoutMs: 120_000}))
    return {bucket, kernel, logged, result: value}
  }

  it('over plain http: forwarded, and a 3 MB upload arrives byte for byte', async () => {
    const {bucket, kernel, logged, result} = await copyKernel(s3, proxy.env())
    assert.equal(result.code, 0, result.stderr)
    const stored = await s3Object(s3, bucket, 'vmlinux-6.1.102/amd64/vmlinux.bin')
    assert.ok(stored.body.equals(kernel), 'the object holds exactly the kernel: no headers inside the body')
    assert.equal(stored.sha256, sha(kernel))
    const summaries = logged.map((r) => r.summary)
    assert.ok(summaries.some((s) => s.startsWith(`PUT ${s3.endpoint}/${bucket}/vmlinux-6.1.102/amd64/vmlinux.bin?`)), summaries.join('\n'))
    assert.ok(logged.every((r) => r.method !== 'CONNECT' && r.port === portOf(s3.endpoint)), summaries.join('\n'))
  })

  it('over https: a CONNECT tunnel, and a 3 MB upload arrives byte for byte', async () => {
    const {bucket, kernel, logged, result} = await copyKernel(s3tls, proxy.env())
    assert.equal(result.code, 0, result.stderr)
    const stored = await s3Object(s3tls, bucket, 'vmlinux-6.1.102/amd64/vmlinux.bin', s3tls.ca)
    assert.ok(stored.body.equals(kernel))
    assert.equal(stored.sha256, sha(kernel))
    assert.ok(logged.length > 0)
    assert.deepEqual([...new Set(logged.map((r) => r.summary))], [`CONNECT 127.0.0.1:${portOf(s3tls.endpoint)}`])
  })

  it('NO_PROXY names the endpoint: nothing goes through the proxy', async () => {
    const tunnelled = await copyKernel(s3tls, proxy.env({noProxy: 'localhost,127.0.0.1'}))
    assert.equal(tunnelled.result.code, 0, tunnelled.result.stderr)
    assert.deepEqual(tunnelled.logged, [])
    const forwarded = await copyKernel(s3, proxy.env({noProxy: '127.0.0.1'}))
    assert.equal(forwarded.result.code, 0, forwarded.result.stderr)
    assert.deepEqual(forwarded.logged, [])
  })

  it('a proxy that refuses the tunnel gets one clear error line', async () => {
    const refusing = await refusingProxyServer()
    const {result} = await copyKernel(s3tls, refusing.env())
    assert.notEqual(result.code, 0)
    assert.match(result.stderr, /the proxy http:\/\/127\.0\.0\.1:\d+\/ refused the tunnel to 127\.0\.0\.1:\d+ \(HTTP 403 to CONNECT\): check HTTPS_PROXY and NO_PROXY/)
  })
})
