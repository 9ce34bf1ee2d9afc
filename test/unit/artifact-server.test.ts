import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {once} from 'node:events'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {after, before, beforeEach, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {gunzipSync} from 'node:zlib'

import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {crc32c, googHashes} from '../support/goog-hash.js'
import {headerLines, raw} from '../support/raw-http.js'

const OBJ = '/public-builds/busybox/1.36.1/amd64/busybox'
const BODY = randomBytes(64 * 1024)

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

describe('artifact-server', () => {
  let server: ArtifactServer

  before(async () => {
    server = await startArtifactServer()
  })
  after(() => server.close())
  beforeEach(() => {
    server.clear()
    server.resetLog()
    server.delay(0)
  })

  describe('objects', () => {
    it('serves GET with length, type and etag; HEAD without a body; 404 otherwise', async () => {
      server.put(OBJ, BODY, {headers: {'x-goog-meta-sha256': sha256(BODY), 'x-goog-hash': 'crc32c=AAAAAA=='}})
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)

      const get = await fetch(server.url + OBJ)
      assert.equal(get.status, 200)
      assert.equal(get.headers.get('content-length'), String(BODY.length))
      assert.equal(get.headers.get('content-type'), 'application/octet-stream')
      assert.ok(get.headers.get('etag'))
      assert.equal(get.headers.get('x-goog-meta-sha256'), sha256(BODY))
      assert.equal(get.headers.get('x-goog-hash'), 'crc32c=AAAAAA==')
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), BODY)

      const head = await raw(server.url + OBJ, {method: 'HEAD'})
      assert.equal(head.status, 200)
      assert.equal(head.headers['content-length'], String(BODY.length))
      assert.equal(head.body.length, 0)

      const missing = await fetch(`${server.url}/public-builds/nope`)
      assert.equal(missing.status, 404)
      assert.ok((await missing.text()).length > 0)

      assert.equal(server.remove(OBJ), true)
      assert.equal((await fetch(server.url + OBJ)).status, 404)
    })

    it('honours single byte ranges', async () => {
      server.put(OBJ, BODY)
      const mid = await fetch(server.url + OBJ, {headers: {range: 'bytes=10-19'}})
      assert.equal(mid.status, 206)
      assert.equal(mid.headers.get('content-range'), `bytes 10-19/${BODY.length}`)
      assert.deepEqual(Buffer.from(await mid.arrayBuffer()), BODY.subarray(10, 20))

      const tail = await fetch(server.url + OBJ, {headers: {range: 'bytes=1000-'}})
      assert.equal(tail.status, 206)
      assert.deepEqual(Buffer.from(await tail.arrayBuffer()), BODY.subarray(1000))

      const beyond = await fetch(server.url + OBJ, {headers: {range: `bytes=${BODY.length}-`}})
      assert.equal(beyond.status, 416)
      assert.equal(beyond.headers.get('content-range'), `bytes */${BODY.length}`)
    })

    it('logs requests and resets the log', async () => {
      server.put(OBJ, 'x')
      await (await fetch(server.url + OBJ, {headers: {authorization: 'Bearer t'}})).text()
      assert.equal(server.requests.length, 1)
      const [entry] = server.requests
      assert.equal(entry?.method, 'GET')
      assert.equal(entry?.path, OBJ)
      assert.equal(entry?.host, 'main')
      assert.equal(entry?.headers.authorization, 'Bearer t')
      server.resetLog()
      assert.equal(server.requests.length, 0)
    })

    it('delays every response when asked', async () => {
      server.put(OBJ, 'x')
      server.delay(150)
      const t0 = performance.now()
      await (await fetch(server.url + OBJ)).text()
      assert.ok(performance.now() - t0 >= 140)
      server.delay(60_000)
      server.delay(0)
      // Had the 60 s delay survived, this would time out; the bound is generous so a slow machine cannot flake.
      assert.equal(await (await fetch(server.url + OBJ, {signal: AbortSignal.timeout(5000)})).text(), 'x')
    })
  })

  describe('faults', () => {
    beforeEach(() => server.put(OBJ, BODY))

    it('status faults are consumed in order, then normal serving resumes', async () => {
      server.fault(OBJ, [{kind: 'status', status: 503}, {kind: 'status', status: 429, headers: {'retry-after': '0'}}])
      const first = await fetch(server.url + OBJ)
      assert.equal(first.status, 503)
      assert.ok((await first.text()).length > 0)
      const second = await fetch(server.url + OBJ)
      assert.equal(second.status, 429)
      assert.equal(second.headers.get('retry-after'), '0')
      await second.text()
      const third = await fetch(server.url + OBJ)
      assert.equal(third.status, 200)
      assert.deepEqual(Buffer.from(await third.arrayBuffer()), BODY)
      assert.equal(server.pendingFaults(OBJ), 0)
    })

    it('HEAD applies status faults but leaves other kinds for the next GET', async () => {
      server.fault(OBJ, [{kind: 'flip'}])
      const head = await raw(server.url + OBJ, {method: 'HEAD'})
      assert.equal(head.status, 200)
      assert.equal(server.pendingFaults(OBJ), 1)
      const get = Buffer.from(await (await fetch(server.url + OBJ)).arrayBuffer())
      assert.notDeepEqual(get, BODY)
      assert.equal(server.pendingFaults(OBJ), 0)

      server.fault(OBJ, [{kind: 'status', status: 403}])
      assert.equal((await raw(server.url + OBJ, {method: 'HEAD'})).status, 403)
      assert.equal(server.pendingFaults(OBJ), 0)
    })

    it('reset: headers arrive, then the body read fails', async () => {
      server.fault(OBJ, [{kind: 'reset'}])
      const res = await fetch(server.url + OBJ)
      assert.equal(res.status, 200)
      await assert.rejects(res.arrayBuffer())
      const again = await fetch(server.url + OBJ)
      assert.deepEqual(Buffer.from(await again.arrayBuffer()), BODY)
    })

    it('truncate: full Content-Length, half the body, premature close', async () => {
      server.fault(OBJ, [{kind: 'truncate'}])
      const res = await raw(server.url + OBJ)
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-length'], String(BODY.length))
      assert.ok(res.error, 'client should see the premature close')
      assert.ok(res.body.length <= BODY.length / 2)

      server.fault(OBJ, [{kind: 'truncate'}])
      const viaFetch = await fetch(server.url + OBJ)
      await assert.rejects(viaFetch.arrayBuffer())
    })

    it('stall: the client only gets out through its own timeout', async () => {
      server.fault(OBJ, [{kind: 'stall', afterBytes: 100}])
      const res = await fetch(server.url + OBJ, {signal: AbortSignal.timeout(300)})
      assert.equal(res.status, 200)
      await assert.rejects(res.arrayBuffer(), (err: Error) => err.name === 'TimeoutError' || err.name === 'AbortError')
    })

    it('flip: same length, exactly the middle byte differs', async () => {
      server.fault(OBJ, [{kind: 'flip'}])
      const got = Buffer.from(await (await fetch(server.url + OBJ)).arrayBuffer())
      assert.equal(got.length, BODY.length)
      const diffs = [...got.keys()].filter((i) => got[i] !== BODY[i])
      assert.deepEqual(diffs, [BODY.length / 2])
      // The stored object itself is untouched.
      assert.deepEqual(Buffer.from(await (await fetch(server.url + OBJ)).arrayBuffer()), BODY)
    })

    it('redirect: 302 by default, or the given status', async () => {
      server.put('/elsewhere', 'moved')
      server.fault(OBJ, [{kind: 'redirect', location: `${server.url}/elsewhere`}, {kind: 'redirect', location: '/elsewhere', status: 307}])
      const manual = await fetch(server.url + OBJ, {redirect: 'manual'})
      assert.equal(manual.status, 302)
      assert.equal(manual.headers.get('location'), `${server.url}/elsewhere`)
      const followed = await fetch(server.url + OBJ)
      assert.equal(await followed.text(), 'moved')
    })

    it('trickle: headers at once, the burst, then the given rate, to the last byte', async () => {
      server.fault(OBJ, [{kind: 'trickle', bytesPerSecond: 1, afterBytes: 100}])
      const slow = await raw(server.url + OBJ, {giveUpAfterMs: 1500})
      assert.equal(slow.status, 200)
      assert.equal(slow.headers['content-length'], String(BODY.length))
      assert.ok(slow.headersAfterMs! < 1000, `headers took ${slow.headersAfterMs} ms`)
      // 100 at once, then one byte a second: 101 or 102 bytes within 1.5 s.
      assert.ok(slow.body.length >= 101 && slow.body.length <= 102, `got ${slow.body.length} bytes`)
      assert.deepEqual(slow.body, BODY.subarray(0, slow.body.length))

      const small = BODY.subarray(0, 1000)
      server.put('/small', small)
      server.fault('/small', [{kind: 'trickle', bytesPerSecond: 2000}])
      const t0 = performance.now()
      const whole = await raw(`${server.url}/small`)
      const took = performance.now() - t0
      assert.equal(whole.error, undefined)
      assert.deepEqual(whole.body, small)
      // The first 200-byte step goes at once, so 0.4 s is the floor.
      assert.ok(took >= 350 && took < 3000, `1000 bytes at 2000 B/s took ${took} ms`)

      assert.throws(() => server.fault('/small', [{kind: 'trickle', bytesPerSecond: 0}]), /positive/)
    })

    it('slowHeaders: nothing for the given time, then the normal response', async () => {
      server.fault(OBJ, [{kind: 'slowHeaders', ms: 300}])
      const late = await raw(server.url + OBJ)
      assert.ok(late.headersAfterMs! >= 290, `headers after ${late.headersAfterMs} ms`)
      assert.deepEqual(late.body, BODY)

      server.fault(OBJ, [{kind: 'slowHeaders', ms: Infinity}])
      const never = await raw(server.url + OBJ, {giveUpAfterMs: 300})
      assert.equal(never.status, undefined)
      assert.equal(never.error?.message, 'given up by the test')
      // The abandoned request released its wait: the next one is served at once.
      assert.deepEqual((await raw(server.url + OBJ)).body, BODY)
    })
  })

  describe('gzip-encoded objects, served as GCS serves gsutil cp -Z uploads', () => {
    const text = Buffer.from('BusyBox v1.36.1 '.repeat(4096))
    const GZ = '/public-builds/kernels/vmlinux.bin'

    it('stores the compressed bytes, and x-goog-hash describes them (two header lines)', async () => {
      server.put(GZ, text, {gzip: true})
      const res = await raw(server.url + GZ, {headers: {'accept-encoding': 'gzip'}})
      assert.equal(res.status, 200)
      assert.equal(res.headers['content-encoding'], 'gzip')
      assert.equal(res.headers['x-goog-stored-content-encoding'], 'gzip')
      assert.equal(res.headers['content-length'], String(res.body.length))
      assert.equal(res.headers['x-goog-stored-content-length'], String(res.body.length))
      assert.ok(res.body.length < text.length / 10, 'the stored bytes are compressed')
      assert.deepEqual(gunzipSync(res.body), text)
      assert.deepEqual(headerLines(res, 'x-goog-hash'), googHashes(res.body))
      assert.equal(res.headers.etag, `"${createHash('md5').update(res.body).digest('hex')}"`)
    })

    it('decompresses for a client that does not accept gzip: chunked, no Content-Encoding, same x-goog-hash', async () => {
      server.put(GZ, text, {gzip: true})
      const stored = await raw(server.url + GZ, {headers: {'accept-encoding': 'gzip;q=1, identity;q=0.5'}})
      const res = await raw(server.url + GZ)
      assert.equal(res.status, 200)
      assert.deepEqual(res.body, text)
      assert.equal(res.headers['content-encoding'], undefined)
      assert.equal(res.headers['content-length'], undefined)
      assert.equal(res.headers['transfer-encoding'], 'chunked')
      assert.equal(res.headers['x-guploader-response-body-transformations'], 'gunzipped')
      assert.equal(res.headers.warning, '214 UploadServer gunzipped')
      assert.equal(res.headers['x-goog-stored-content-encoding'], 'gzip')
      // The hashes still describe the stored gzip bytes, not what was served.
      assert.deepEqual(headerLines(res, 'x-goog-hash'), googHashes(stored.body))
      assert.notDeepEqual(headerLines(res, 'x-goog-hash'), googHashes(res.body))

      const refused = await raw(server.url + GZ, {headers: {'accept-encoding': 'gzip;q=0, br'}})
      assert.deepEqual(refused.body, text, 'gzip;q=0 does not accept gzip')
    })

    it('ignores Range when decompressing; applies it to the compressed bytes otherwise', async () => {
      server.put(GZ, text, {gzip: true})
      const whole = await raw(server.url + GZ, {headers: {range: 'bytes=0-9'}})
      assert.equal(whole.status, 200)
      assert.deepEqual(whole.body, text)

      const stored = (await raw(server.url + GZ, {headers: {'accept-encoding': 'gzip'}})).body
      const part = await raw(server.url + GZ, {headers: {'accept-encoding': 'gzip', range: 'bytes=0-9'}})
      assert.equal(part.status, 206)
      assert.equal(part.headers['content-range'], `bytes 0-9/${stored.length}`)
      assert.deepEqual(part.body, stored.subarray(0, 10))
    })

    it('serves the compressed bytes to everyone when Cache-Control has no-transform', async () => {
      server.put(GZ, text, {gzip: true, headers: {'cache-control': 'public, max-age=3600, no-transform'}})
      const res = await raw(server.url + GZ)
      assert.equal(res.headers['content-encoding'], 'gzip')
      assert.deepEqual(gunzipSync(res.body), text)
    })

    it('fetch() asks for gzip and decodes silently; faults apply to the decompressed body too', async () => {
      server.put(GZ, text, {gzip: true})
      const res = await fetch(server.url + GZ)
      assert.equal(res.headers.get('content-encoding'), 'gzip')
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), text)

      server.fault(GZ, [{kind: 'truncate'}])
      const cut = await raw(server.url + GZ)
      assert.equal(cut.headers['transfer-encoding'], 'chunked')
      assert.ok(cut.error, 'a chunked body cut short must fail, not end cleanly')
      assert.ok(cut.body.length < text.length)
    })

    it('computes CRC32C (Castagnoli), checked against the standard test vector', () => {
      assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
      assert.deepEqual(googHashes(Buffer.alloc(0)), ['crc32c=AAAAAA==', 'md5=1B2M2Y8AsgTpgAmY7PhCfg=='])
    })
  })

  describe('github', () => {
    const owner = 'e2b-dev'
    const repo = 'fc-kernels'
    const tag = 'v1.0.0'
    const kernel = randomBytes(4096)

    beforeEach(() => {
      server.addRelease({
        owner,
        repo,
        tag,
        assets: [
          {name: 'vmlinux.bin', body: kernel},
          {name: 'no-digest.bin', body: 'a', digest: null},
          {name: 'fixed.bin', body: 'b', digest: 'sha256:deadbeef'},
        ],
      })
    })

    it('serves release JSON with computed, explicit and null digests', async () => {
      const res = await fetch(`${server.url}/api/repos/${owner}/${repo}/releases/tags/${tag}`)
      assert.equal(res.status, 200)
      const body = (await res.json()) as {tag_name: string; id: number; assets: Array<Record<string, unknown>>}
      assert.equal(body.tag_name, tag)
      assert.equal(typeof body.id, 'number')
      const [vmlinux, noDigest, fixed] = body.assets
      assert.equal(vmlinux?.name, 'vmlinux.bin')
      assert.equal(vmlinux?.size, kernel.length)
      assert.equal(vmlinux?.digest, `sha256:${sha256(kernel)}`)
      assert.equal(vmlinux?.url, `${server.url}/api/repos/${owner}/${repo}/releases/assets/${String(vmlinux?.id)}`)
      assert.equal(vmlinux?.browser_download_url, `${server.url}/${owner}/${repo}/releases/download/${tag}/vmlinux.bin`)
      assert.equal(noDigest?.digest, null)
      assert.equal(fixed?.digest, 'sha256:deadbeef')

      const missing = await fetch(`${server.url}/api/repos/${owner}/${repo}/releases/tags/v9`)
      assert.equal(missing.status, 404)
      assert.deepEqual(((await missing.json()) as {message: string}).message, 'Not Found')
    })

    it('asset API redirects octet-stream requests to the asset host, which is logged as such', async () => {
      const release = (await (await fetch(`${server.url}/api/repos/${owner}/${repo}/releases/tags/${tag}`)).json()) as {
        assets: Array<{url: string; id: number}>
      }
      const apiUrl = release.assets[0]?.url ?? ''
      const json = await fetch(apiUrl, {headers: {authorization: 'Bearer secret'}})
      assert.equal(((await json.json()) as {name: string}).name, 'vmlinux.bin')

      server.resetLog()
      const redirect = await fetch(apiUrl, {headers: {accept: 'application/octet-stream', authorization: 'Bearer secret'}, redirect: 'manual'})
      assert.equal(redirect.status, 302)
      const location = redirect.headers.get('location') ?? ''
      assert.ok(location.startsWith(`${server.assetsUrl}/`), location)
      assert.match(location, /\?token-in-query=x$/)

      const bytes = Buffer.from(await (await fetch(location)).arrayBuffer())
      assert.deepEqual(bytes, kernel)
      const assetPath = server.assetPath(owner, repo, tag, 'vmlinux.bin')
      assert.deepEqual(
        server.requests.map((r) => [r.host, r.path, r.headers.authorization]),
        [
          ['main', `/api/repos/${owner}/${repo}/releases/assets/${String(release.assets[0]?.id)}`, 'Bearer secret'],
          ['assets', assetPath, undefined],
        ],
      )
    })

    it('browser_download_url redirects too, and asset-host faults apply', async () => {
      const download = `${server.url}/${owner}/${repo}/releases/download/${tag}/vmlinux.bin`
      const redirect = await fetch(download, {redirect: 'manual'})
      assert.equal(redirect.status, 302)
      assert.ok(redirect.headers.get('location')?.startsWith(server.assetsUrl))

      server.fault(server.assetPath(owner, repo, tag, 'vmlinux.bin'), [{kind: 'status', status: 500}])
      assert.equal((await fetch(download)).status, 500)
      const ok = await fetch(download)
      assert.equal(ok.status, 200)
      assert.deepEqual(Buffer.from(await ok.arrayBuffer()), kernel)
      assert.ok(server.requests.some((r) => r.host === 'assets'))
      assert.throws(() => server.assetPath(owner, repo, tag, 'nope'))
    })
  })

  describe('serveDirectory', () => {
    let dir: string
    const big = randomBytes(3 * 1024 * 1024 + 17)

    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'artifact-server-'))
      await writeFile(path.join(dir, 'big.bin'), big)
    })
    after(() => rm(dir, {recursive: true, force: true}))

    it('streams files from disk; put() objects take precedence; no escaping the root', async () => {
      server.serveDirectory('/bucket', dir)
      const res = await fetch(`${server.url}/bucket/big.bin`)
      assert.equal(res.headers.get('content-length'), String(big.length))
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), big)

      const range = await fetch(`${server.url}/bucket/big.bin`, {headers: {range: 'bytes=100-199'}})
      assert.equal(range.status, 206)
      assert.deepEqual(Buffer.from(await range.arrayBuffer()), big.subarray(100, 200))

      server.put('/bucket/big.bin', 'override')
      assert.equal(await (await fetch(`${server.url}/bucket/big.bin`)).text(), 'override')
      server.remove('/bucket/big.bin')

      assert.equal((await fetch(`${server.url}/bucket/missing`)).status, 404)
      assert.equal((await raw(`${server.url}/bucket/..%2f..%2fetc%2fpasswd`)).status, 404)
    })

    it('applies flip and truncate to file-backed objects', async () => {
      server.serveDirectory('/bucket', dir)
      server.fault('/bucket/big.bin', [{kind: 'flip'}, {kind: 'truncate'}])
      const flipped = Buffer.from(await (await fetch(`${server.url}/bucket/big.bin`)).arrayBuffer())
      assert.equal(flipped.length, big.length)
      assert.deepEqual(
        [...flipped.keys()].filter((i) => flipped[i] !== big[i]),
        [Math.floor(big.length / 2)],
      )
      const truncated = await raw(`${server.url}/bucket/big.bin`)
      assert.ok(truncated.error)
      assert.equal(truncated.body.length, Math.floor(big.length / 2))
    })

    it('runs standalone and stops on SIGTERM', async () => {
      const script = fileURLToPath(new URL('../support/artifact-server.ts', import.meta.url))
      const child = spawn(process.execPath, ['--import', 'tsx', script, '--root', dir, '--prefix', '/b', '--delay-ms', '10'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      const [line] = (await once(createInterface({input: child.stdout}), 'line')) as [string]
      const url = /^listening (http:\/\/127\.0\.0\.1:\d+)$/.exec(line ?? '')?.[1]
      assert.ok(url, `unexpected first line: ${String(line)}`)
      const res = await fetch(`${url}/b/big.bin`)
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), sha256(big))
      child.kill('SIGTERM')
      assert.equal(await exited, 0)
    })
  })

  it('close() ends stalled responses and does not hang', async () => {
    const own = await startArtifactServer()
    own.put(OBJ, BODY)
    own.fault(OBJ, [{kind: 'stall'}])
    const pending = raw(own.url + OBJ)
    while (own.requests.length === 0) await new Promise((r) => setTimeout(r, 5))
    await new Promise((r) => setTimeout(r, 50))
    const t0 = performance.now()
    await own.close()
    assert.ok(performance.now() - t0 < 1000)
    const result = await pending
    assert.equal(result.status, 200)
    assert.ok(result.error, 'client should see the connection die')
    await assert.rejects(fetch(own.url + OBJ))
  })
})
