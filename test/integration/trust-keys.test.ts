/**
 * Issue 8, items 1 and 2: nothing outside its root. Keys from a listing
 * (fake-gcs-server and versitygw accept `..`, backslashes and control
 * characters) are checked by one rule before any use, and a `file://` store
 * never follows a symbolic link, on the source side or under the destination
 * root. Each refusal is an integrity finding (exit 3) naming the key, and the
 * rest of the work goes on.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {lstat, mkdir, readFile, readdir, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {type CliResult, runCli} from '../support/cli.js'
import {type GcsServer, type S3Server, gcsServer, s3Server, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const sidecarOf = (body: Buffer, name = 'busybox'): string => `${sha(body)}  ${name}\n`
const RUN = randomBytes(3).toString('hex')
const escapeRe = (text: string): string => text.replaceAll(/[.*+?^${}()|[\]\\]/g, String.raw`\$&`)

let gcs: GcsServer
let s3: S3Server
let amd64: Buffer
let arm64: Buffer

before(async () => {
  ;[gcs, s3, amd64, arm64] = await Promise.all([gcsServer(), s3Server(), busyboxBytes('amd64'), busyboxBytes('arm64')])
  Object.assign(process.env, gcs.env, s3.env)
})

after(async () => {
  await removeTempDirs()
})

/** An object under any name at all, through the JSON API as a careless uploader would write it. */
async function gcsPutRaw(bucket: string, name: string, body: Buffer | string): Promise<void> {
  const response = await fetch(`${gcs.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`, {body: typeof body === 'string' ? body : new Uint8Array(body), method: 'POST'})
  assert.equal(response.status, 200, `${name}: ${await response.text()}`)
}

async function s3PutRaw(bucket: string, key: string, body: Buffer | string): Promise<void> {
  const {PutObjectCommand, S3Client} = await import('@aws-sdk/client-s3')
  const client = new S3Client({credentials: {accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey}, endpoint: s3.endpoint, forcePathStyle: true, region: s3.region})
  try {
    await client.send(new PutObjectCommand({Body: body, Bucket: bucket, Key: key}))
  } finally {
    client.destroy()
  }
}

/** Every entry below `dir` (files, directories and links), relative and sorted, without following links. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true})
  return entries.map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)) + (entry.isSymbolicLink() ? ' -> link' : entry.isDirectory() ? '/' : '')).sort()
}

interface CopyJson {
  objects: Array<{key: string; action: string; error?: {exitCode: number; kind: string}}>
  summary: {copied: number; refused: number; held: number; wouldCopy: number; exitCode: number}
}

function report(result: CliResult): CopyJson {
  try {
    return JSON.parse(result.stdout) as CopyJson
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`)
  }
}

const actions = (json: CopyJson): Array<[string, string]> => json.objects.map((o) => [o.key, o.action] as [string, string]).sort((a, b) => a[0].localeCompare(b[0]))

const PAIR = [`${V}/amd64/busybox`, `${V}/amd64/busybox.sha256`]

describe('key safety: unsafe keys from a listing are refused in every store', () => {
  /** Keys under the public `busybox/` prefix that must never become paths, and why. */
  const UNSAFE: ReadonlyArray<[string, RegExp]> = [
    [`busybox/../../../../escaped-${RUN}`, /'\.\.' segment/],
    ['busybox/1.36.1/amd64/..', /'\.\.' segment/],
    [`busybox/${V}/amd64/busy\\box`, /backslash/],
    [`busybox/${V}/amd64/bell\u0007`, /control character/],
    ['busybox//etc/passwd', /starts with \/|empty segment/],
  ]

  async function gcsSource(): Promise<string> {
    const bucket = uniqueBucket('keys')
    await gcs.createBucket(bucket)
    await gcsPutRaw(bucket, `busybox/${PAIR[0]}`, amd64)
    await gcsPutRaw(bucket, `busybox/${PAIR[1]}`, sidecarOf(amd64))
    for (const [key] of UNSAFE) await gcsPutRaw(bucket, key, 'planted by an attacker')
    return `gs://${bucket}`
  }

  it('copies gs:// into file:// without creating anything outside the destination: exit 3, every key named, the rest copied', async () => {
    const from = await gcsSource()
    const parent = await tempDir('keys-parent')
    const destination = path.join(parent, 'a', 'b', 'c', 'env-fc-busybox')
    const result = await runCli(['copy-public-builds', '--from', from, '--to', `busybox=file://${destination}`, '--json'], {env: gcs.env})
    assert.equal(result.code, 3, result.stderr)
    const json = report(result)
    assert.equal(json.summary.copied, 2)
    assert.equal(json.summary.refused, UNSAFE.length)
    for (const [key, why] of UNSAFE) {
      const shown = key.slice('busybox/'.length).replace('\\', '\\\\').replace('\u0007', '\\x07')
      const line = result.stderr.split('\n').find((l) => l.startsWith('refused ') && l.includes(`/busybox/${shown}:`))
      assert.ok(line, `stderr names ${JSON.stringify(key)}:\n${result.stderr}`)
      assert.match(line, why)
      assert.match(line, /never read or written$/)
    }
    assert.match(result.stderr, /\ne2b-artifacts: error: 5 objects failed an integrity check and were not copied: fix the source, then run again\n$/)
    assert.deepEqual(await tree(parent), ['a/', 'a/b/', 'a/b/c/', 'a/b/c/env-fc-busybox/', `a/b/c/env-fc-busybox/${V}/`, `a/b/c/env-fc-busybox/${V}/amd64/`, ...PAIR.map((key) => `a/b/c/env-fc-busybox/${key}`)])
    assert.deepEqual(await readFile(path.join(destination, PAIR[0]!)), amd64)
  })

  it('--dry-run lists unsafe keys as refused, never as would-copy, and writes nothing', async () => {
    const from = await gcsSource()
    const destination = path.join(await tempDir('keys-dry'), 'env-fc-busybox')
    const result = await runCli(['copy-public-builds', '--from', from, '--to', `busybox=file://${destination}`, '--dry-run', '--json'], {env: gcs.env})
    assert.equal(result.code, 3, result.stderr)
    const json = report(result)
    assert.deepEqual(
      actions(json),
      [...PAIR.map((key) => [key, 'would-copy']), ...UNSAFE.map(([key]) => [key.slice('busybox/'.length), 'refused'])].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    )
    assert.ok(json.objects.filter((o) => o.action === 'refused').every((o) => o.error?.exitCode === 3 && o.error.kind === 'integrity'))
    await assert.rejects(lstat(destination), {code: 'ENOENT'})
  })

  it('refuses the backslash and control-character keys versitygw lists, copying s3:// into file://', async () => {
    const bucket = uniqueBucket('keys')
    await s3.createBucket(bucket)
    await s3PutRaw(bucket, `busybox/${PAIR[0]}`, amd64)
    await s3PutRaw(bucket, `busybox/${PAIR[1]}`, sidecarOf(amd64))
    await s3PutRaw(bucket, `busybox/${V}/amd64/..\\..\\..\\escaped`, 'x')
    await s3PutRaw(bucket, `busybox/${V}/amd64/tab\there`, 'x')
    const destination = path.join(await tempDir('keys-s3'), 'env-fc-busybox')
    const result = await runCli(['copy-public-builds', '--from', `s3://${bucket}`, '--to', `busybox=file://${destination}`], {env: s3.env})
    assert.equal(result.code, 3, result.stderr)
    // Printed escaped, on one line: each backslash doubled, a tab as \x09.
    const line = (shown: string, why: string): RegExp => new RegExp(`^${escapeRe(`refused s3://${bucket}/busybox/${V}/amd64/${shown}: unsafe object name (${why})`)}`, 'm')
    assert.match(result.stderr, line(String.raw`..\\..\\..\\escaped`, 'it contains a backslash'))
    assert.match(result.stderr, line(String.raw`tab\x09here`, 'it contains a control character'))
    assert.deepEqual(await tree(destination), [`${V}/`, `${V}/amd64/`, ...PAIR])
  })

  it('verify --at reports an unsafe key as a FAIL row (exit 3) and still checks the rest', async () => {
    const from = await gcsSource()
    const result = await runCli(['verify', '--at', from, '--json'], {env: gcs.env})
    assert.equal(result.code, 3, result.stderr)
    const findings = (JSON.parse(result.stdout) as {findings: Array<{kind: string; severity: string; message: string}>}).findings
    assert.equal(findings.filter((f) => f.kind === 'unsafe-key' && f.severity === 'integrity').length, UNSAFE.length)
    assert.deepEqual(findings.filter((f) => f.kind === 'ok').length, 1, 'the good binary is still checked')
    const against = await runCli(['verify', '--against', from, '--version', V, '--arch', 'amd64', '--json'], {env: gcs.env})
    assert.equal(against.code, 3, against.stderr)
    const inVersion = UNSAFE.filter(([key]) => key.startsWith(`busybox/${V}/`)).length
    assert.equal((JSON.parse(against.stdout) as {findings: Array<{kind: string}>}).findings.filter((f) => f.kind === 'unsafe-key').length, inVersion, 'a --version listing sees only that version')
    const everything = await runCli(['verify', '--against', from, '--json'], {env: gcs.env})
    assert.equal(everything.code, 3, everything.stderr)
    assert.equal((JSON.parse(everything.stdout) as {findings: Array<{kind: string}>}).findings.filter((f) => f.kind === 'unsafe-key').length, UNSAFE.length)
    const human = await runCli(['verify', '--at', from], {env: gcs.env})
    assert.match(human.stderr, new RegExp(`^FAIL +- +${from}/busybox/\\.\\./\\.\\./\\.\\./\\.\\./escaped-${RUN}: unsafe object name \\(it has a '\\.\\.' segment\\): never read$`, 'm'))
  })
})

describe('the file store never follows a symbolic link', () => {
  it('on the source side: a link to /etc/hostname and a linked directory are refused (exit 3), the rest is copied', async () => {
    const root = await tempDir('links-src')
    const elsewhere = await tempDir('links-elsewhere')
    const src = path.join(root, 'public')
    await mkdir(path.join(src, 'busybox', V, 'amd64'), {recursive: true})
    await mkdir(path.join(src, 'busybox', V, 'arm64'), {recursive: true})
    await writeFile(path.join(src, 'busybox', PAIR[0]!), amd64)
    await writeFile(path.join(src, 'busybox', PAIR[1]!), sidecarOf(amd64))
    // A link where a binary should be, with a sidecar that vouches for what it points at.
    await symlink('/etc/hostname', path.join(src, 'busybox', V, 'arm64', 'busybox'))
    await writeFile(path.join(src, 'busybox', V, 'arm64', 'busybox.sha256'), sidecarOf(await readFile('/etc/hostname')))
    // A whole version that is a link to a directory elsewhere, holding a well-formed pair.
    await mkdir(path.join(elsewhere, 'amd64'))
    await writeFile(path.join(elsewhere, 'amd64', 'busybox'), arm64)
    await writeFile(path.join(elsewhere, 'amd64', 'busybox.sha256'), sidecarOf(arm64))
    await symlink(elsewhere, path.join(src, 'busybox', '1.36.1'))

    const destination = path.join(await tempDir('links-dst'), 'env-fc-busybox')
    const result = await runCli(['copy-public-builds', '--from', `file://${src}`, '--to', `busybox=file://${destination}`, '--json'])
    assert.equal(result.code, 3, result.stderr)
    assert.deepEqual(actions(report(result)), [
      [`${V}/amd64/busybox`, 'copied'],
      [`${V}/amd64/busybox.sha256`, 'copied'],
      [`${V}/arm64/busybox`, 'refused'],
      [`${V}/arm64/busybox.sha256`, 'held'],
      ['1.36.1', 'refused'],
    ])
    assert.match(result.stderr, new RegExp(`^refused ${src}/busybox/${V}/arm64/busybox: unsafe object name \\(it is a symbolic link \\(links are never followed\\)\\)`, 'm'))
    assert.deepEqual(await tree(destination), [`${V}/`, `${V}/amd64/`, ...PAIR])
    const human = await runCli(['copy-public-builds', '--from', `file://${src}`, '--to', `busybox=file://${destination}`])
    assert.equal(human.code, 3)
    assert.match(human.stderr, /^copy-public-builds: 0 copied, 2 skipped, 0 conflicts, 0 failed, 1 held back, 2 refused; /m)
  })

  it('under the destination root: a symlinked parent directory is never written through (exit 3)', async () => {
    const src = await tempDir('dst-links-src')
    await mkdir(path.join(src, 'busybox', V, 'amd64'), {recursive: true})
    await writeFile(path.join(src, 'busybox', PAIR[0]!), amd64)
    await writeFile(path.join(src, 'busybox', PAIR[1]!), sidecarOf(amd64))
    const outside = await tempDir('dst-links-outside')
    const destination = path.join(await tempDir('dst-links'), 'env-fc-busybox')
    await mkdir(destination)
    await symlink(outside, path.join(destination, V))
    const result = await runCli(['copy-public-builds', '--from', `file://${src}`, '--to', `busybox=file://${destination}`])
    assert.equal(result.code, 3, result.stderr)
    assert.match(result.stderr, new RegExp(`^failed \\S+ → ${destination}/${V}/amd64/busybox: ${destination}/${V}: it is a symbolic link \\(links are never followed\\): refused$`, 'm'))
    assert.deepEqual(await readdir(outside), [], 'nothing written through the link')
    assert.match(result.stderr, /^warning: .*env-fc-busybox\/1\.35\.0: unsafe object name \(it is a symbolic link/m)
  })

  it('under the destination root: a link at the final name is refused, and its target is left alone', async () => {
    const src = await tempDir('final-link-src')
    await mkdir(path.join(src, 'busybox', V, 'amd64'), {recursive: true})
    await writeFile(path.join(src, 'busybox', PAIR[0]!), amd64)
    await writeFile(path.join(src, 'busybox', PAIR[1]!), sidecarOf(amd64))
    const precious = path.join(await tempDir('final-link-outside'), 'precious')
    await writeFile(precious, 'precious')
    const destination = path.join(await tempDir('final-link'), 'env-fc-busybox')
    await mkdir(path.join(destination, V, 'amd64'), {recursive: true})
    await symlink(precious, path.join(destination, PAIR[0]!))
    for (const extra of [[], ['--force']]) {
      const result = await runCli(['copy-public-builds', '--from', `file://${src}`, '--to', `busybox=file://${destination}`, ...extra])
      assert.equal(result.code, 3, `${extra.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, /it is a symbolic link \(links are never followed\): refused/)
      assert.equal(await readFile(precious, 'utf8'), 'precious')
    }
  })

  it('fetch, verify --at and upload refuse a binary that is a link', async () => {
    const mirror = await tempDir('link-mirror')
    const real = path.join(await tempDir('link-target'), 'busybox')
    await writeFile(real, amd64)
    await mkdir(path.join(mirror, 'busybox', V, 'amd64'), {recursive: true})
    await symlink(real, path.join(mirror, 'busybox', PAIR[0]!))
    await writeFile(path.join(mirror, 'busybox', PAIR[1]!), sidecarOf(amd64))

    const out = path.join(await tempDir('link-out'), 'busybox')
    const fetched = await runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', `file://${mirror}`, '--out', out])
    assert.equal(fetched.code, 3, fetched.stderr)
    assert.match(fetched.stderr, /busybox: it is a symbolic link \(links are never followed\): refused/)
    await assert.rejects(lstat(out), {code: 'ENOENT'})

    const audited = await runCli(['verify', '--at', mirror])
    assert.equal(audited.code, 3, audited.stderr)
    assert.match(audited.stderr, /^FAIL .*\/1\.35\.0\/amd64\/busybox: unsafe object name \(it is a symbolic link/m)

    const published = await runCli(['upload', '--version', V, '--arch', 'amd64', '--from', path.join(mirror, 'busybox'), '--to', await tempDir('link-up')])
    assert.equal(published.code, 3, published.stderr)
    assert.match(published.stderr, /it is a symbolic link \(links are never followed\): refused/)
  })
})
