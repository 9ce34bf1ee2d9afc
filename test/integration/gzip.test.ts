/**
 * Objects stored gzip-encoded, as `gsutil cp -Z` uploads them: decoded on every
 * path (gs:// against fake-gcs-server, https against the loopback server that
 * serves them as GCS does, the anonymous view), every check applied to the
 * decoded bytes, and an error that the encoding causes says so.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {readFile, readdir} from 'node:fs/promises'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {type CliResult, runCli} from '../support/cli.js'
import {type GcsServer, type S3Server, gcsServer, s3Server, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {ensureBucket, putRawObject} from '../support/gcs-objects.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const sidecarOf = (body: Buffer, name: string): Buffer => Buffer.from(`${sha(body)}  ${name}\n`)

let gcs: GcsServer
let s3: S3Server
let server: ArtifactServer
let amd64: Buffer

before(async () => {
  ;[gcs, s3, server, amd64] = await Promise.all([gcsServer(), s3Server(), startArtifactServer(), busyboxBytes('amd64')])
})

after(async () => {
  await server.close()
  await removeTempDirs()
})

async function fetchInto(from: string, env: Record<string, string> = {}, extra: string[] = []): Promise<{dir: string; out: string; result: CliResult}> {
  const dir = await tempDir('gzip-fetch')
  const out = path.join(dir, 'busybox')
  const result = await runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', from, '--out', out, ...extra], {cwd: dir, env})
  return {dir, out, result}
}

async function assertInstalled(dir: string, out: string): Promise<void> {
  assert.deepEqual(await readFile(out), amd64, 'the decoded bytes are installed')
  assert.equal(await readFile(`${out}.sha256`, 'utf8'), `${sha(amd64)}  busybox\n`)
  assert.deepEqual((await readdir(dir)).sort(), ['busybox', 'busybox.sha256'], 'no temp files are left')
}

/** A bucket with busybox and its sidecar, both uploaded as `gsutil cp -Z` does. */
async function gzippedBucket(label: string): Promise<string> {
  const bucket = uniqueBucket(label)
  await ensureBucket(gcs, bucket)
  await putRawObject(gcs, bucket, `busybox/${V}/amd64/busybox`, amd64, {gzip: true})
  await putRawObject(gcs, bucket, `busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64, 'busybox'), {contentType: 'text/plain', gzip: true})
  return bucket
}

async function objectResource(bucket: string, name: string): Promise<{contentEncoding?: string; size: string}> {
  const response = await fetch(`${gcs.endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`)
  assert.equal(response.status, 200)
  return (await response.json()) as {contentEncoding?: string; size: string}
}

describe('gzip-encoded objects (gsutil cp -Z)', () => {
  it('gs://: fetch decodes them and checks the decoded bytes', async () => {
    const bucket = await gzippedBucket('gz-gs')
    const {dir, out, result} = await fetchInto(`gs://${bucket}`, gcs.env)
    assert.equal(result.code, 0, result.stderr)
    await assertInstalled(dir, out)
  })

  for (const variant of ['decoded on request', 'served as stored (Cache-Control: no-transform)'] as const) {
    it(`https: fetch decodes them, ${variant}`, async () => {
      const headers = variant.includes('no-transform') ? {'cache-control': 'no-transform'} : undefined
      const prefix = `/gz-${randomBytes(3).toString('hex')}`
      server.put(`${prefix}/busybox/${V}/amd64/busybox`, amd64, {gzip: true, headers})
      server.put(`${prefix}/busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64, 'busybox'), {gzip: true, headers})
      const {dir, out, result} = await fetchInto(`${server.url}${prefix}`)
      assert.equal(result.code, 0, result.stderr)
      await assertInstalled(dir, out)
    })
  }

  it('the anonymous view: copy-public-builds writes the decoded content, and a re-run copies nothing', async () => {
    const bucket = await gzippedBucket('gz-anon')
    const prefix = `${uniqueBucket('gz')}-`
    await s3.createBucket(`${prefix}fc-busybox`)
    const env = {...s3.env, E2B_ARTIFACTS_GCS_ENDPOINT: gcs.endpoint}
    const args = ['copy-public-builds', '--from', `https://storage.googleapis.com/${bucket}`, '--provider', 'aws', '--bucket-prefix', prefix, '--artifact', 'busybox', '--json']
    const first = await runCli(args, {env})
    assert.equal(first.code, 0, first.stderr)
    assert.equal((JSON.parse(first.stdout) as {summary: {copied: number}}).summary.copied, 2)
    const dir = await tempDir('gz-anon-check')
    const fetched = await runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', `s3://${prefix}fc-busybox`, '--out', path.join(dir, 'busybox')], {cwd: dir, env})
    assert.equal(fetched.code, 0, fetched.stderr)
    await assertInstalled(dir, path.join(dir, 'busybox'))
    const again = await runCli(args, {env})
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual((JSON.parse(again.stdout) as {summary: {copied: number; skipped: number}}).summary, {...(JSON.parse(again.stdout) as {summary: object}).summary, copied: 0, skipped: 2})
  })

  it('gs:// to gs://: copied decoded, not rewritten server side with its encoding', async () => {
    const bucket = await gzippedBucket('gz-gs2gs')
    const target = `${uniqueBucket('gz-env')}-fc-busybox`
    await gcs.createBucket(target)
    const result = await runCli(['copy-public-builds', '--from', `gs://${bucket}`, '--to', `busybox=gs://${target}`, '--json'], {env: gcs.env})
    assert.equal(result.code, 0, result.stderr)
    const copied = await objectResource(target, `${V}/amd64/busybox`)
    assert.equal(copied.contentEncoding ?? '', '', 'a host mounting the bucket must see the binary, not gzip bytes')
    assert.equal(Number(copied.size), amd64.length)
  })

  it('verify --at reads the ELF header and, with --deep, the digest of the decoded bytes', async () => {
    const bucket = await gzippedBucket('gz-verify')
    for (const at of [`gs://${bucket}`, `https://storage.googleapis.com/${bucket}`]) {
      for (const deep of [[], ['--deep']]) {
        const result = await runCli(['verify', '--at', at, '--json', ...deep], {env: {E2B_ARTIFACTS_GCS_ENDPOINT: gcs.endpoint}})
        assert.equal(result.code, 0, `${at} ${deep.join(' ')}: ${result.stderr}`)
        const findings = (JSON.parse(result.stdout) as {findings: Array<{kind: string}>}).findings
        assert.ok(findings.some((f) => f.kind === 'ok' || f.kind === 'unverified'), result.stdout)
      }
    }
  })

  it('bytes that arrive intact but do not decode: exit 3, the error names the encoding, nothing installed', async () => {
    const bucket = uniqueBucket('gz-bad')
    await ensureBucket(gcs, bucket)
    // Labelled gzip, but not gzip at all: what a hand-set Content-Encoding leaves.
    const notGzip = Buffer.concat([Buffer.from('not gzip at all '), randomBytes(1000)])
    const response = await fetch(`${gcs.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=media&contentEncoding=gzip&name=${encodeURIComponent(`busybox/${V}/amd64/busybox`)}`, {body: notGzip, method: 'POST'})
    assert.equal(response.status, 200, await response.text())
    await putRawObject(gcs, bucket, `busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64, 'busybox'))
    const {dir, result} = await fetchInto(`gs://${bucket}`, gcs.env)
    assert.equal(result.code, 3, result.stderr)
    assert.match(result.stderr, new RegExp(`^e2b-artifacts: error: gs://${bucket}/busybox/${V.replaceAll('.', '\\.')}/amd64/busybox is stored gzip-encoded \\(Content-Encoding: gzip, as \`gsutil cp -Z\` uploads\\), and arrived intact \\(its md5 matches\\) but does not decode as gzip \\(.+\\): re-upload it, or upload it without -Z\\n$`))
    assert.deepEqual(await readdir(dir), [], 'nothing installed, no temp files left')

    const prefix = `/gz-bad-${randomBytes(3).toString('hex')}`
    server.put(`${prefix}/busybox/${V}/amd64/busybox`, notGzip, {headers: {'content-encoding': 'gzip'}})
    server.put(`${prefix}/busybox/${V}/amd64/busybox.sha256`, sidecarOf(amd64, 'busybox'))
    const overHttps = await fetchInto(`${server.url}${prefix}`)
    assert.equal(overHttps.result.code, 3, overHttps.result.stderr)
    assert.match(overHttps.result.stderr, /is stored gzip-encoded \(Content-Encoding: gzip, as `gsutil cp -Z` uploads\), and does not decode as gzip/)
  })
})
