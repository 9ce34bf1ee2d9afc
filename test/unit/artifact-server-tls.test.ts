import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'

import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {raw} from '../support/raw-http.js'

const OBJ = '/public-builds/busybox/1.36.1/amd64/busybox'
const BODY = randomBytes(32 * 1024)
const run = promisify(execFile)

/** fetch() in a fresh Node process, the way the CLI under test would make it. */
async function fetchInChild(url: string, env: Record<string, string>): Promise<{ok: boolean; output: string}> {
  const script = 'fetch(process.argv[1]).then(async (r) => console.log(r.status, (await r.arrayBuffer()).byteLength), (e) => { console.log(e.cause?.code ?? e.message); process.exitCode = 1 })'
  try {
    const {stdout} = await run(process.execPath, ['-e', script, url], {env: {PATH: process.env.PATH ?? '', ...env}})
    return {ok: true, output: stdout.trim()}
  } catch (error) {
    return {ok: false, output: String((error as {stdout?: string}).stdout ?? error).trim()}
  }
}

describe('artifact-server over TLS', () => {
  let server: ArtifactServer

  before(async () => {
    server = await startArtifactServer({tls: true})
  })
  after(() => server.close())

  it('serves HTTPS on both listeners with a certificate from its own CA', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    assert.match(server.assetsUrl, /^https:\/\/127\.0\.0\.1:\d+$/)
    assert.ok(server.caFile)
    assert.equal(readFileSync(server.caFile, 'utf8'), server.ca)
    server.put(OBJ, BODY)

    const trusted = await raw(server.url + OBJ, {ca: server.ca})
    assert.equal(trusted.status, 200)
    assert.deepEqual(trusted.body, BODY)
    const localhost = await raw(server.url.replace('127.0.0.1', 'localhost') + OBJ, {ca: server.ca})
    assert.equal(localhost.status, 200, 'the certificate names localhost too')

    const untrusted = await raw(server.url + OBJ)
    assert.equal(untrusted.status, undefined)
    assert.equal((untrusted.error as NodeJS.ErrnoException | undefined)?.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  })

  it('is trusted by a process started with NODE_EXTRA_CA_CERTS=caFile, and only then', async () => {
    server.put(OBJ, BODY)
    assert.deepEqual(await fetchInChild(server.url + OBJ, {NODE_EXTRA_CA_CERTS: server.caFile!}), {ok: true, output: `200 ${BODY.length}`})
    assert.deepEqual(await fetchInChild(server.url + OBJ, {}), {ok: false, output: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'})
  })

  it('keeps GitHub redirects to the asset host on https, and faults work as over HTTP', async () => {
    const {Agent, fetch: undiciFetch} = await import('undici')
    const dispatcher = new Agent({connect: {ca: server.ca}})
    try {
      const release = server.addRelease({owner: 'e2b-dev', repo: 'fc-busybox', tag: 'v1.36.1', assets: [{name: 'busybox_v1.36.1_amd64', body: BODY}]})
      const asset = release.assets[0]!
      const api = `${server.url}/api/repos/e2b-dev/fc-busybox/releases/assets/${asset.id}`
      const res = await undiciFetch(api, {dispatcher, headers: {accept: 'application/octet-stream'}})
      assert.equal(res.status, 200)
      assert.ok(res.url.startsWith(server.assetsUrl), `redirected to ${res.url}`)
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), BODY)

      server.put(OBJ, BODY)
      server.fault(OBJ, [{kind: 'reset'}])
      const reset = await raw(server.url + OBJ, {ca: server.ca})
      assert.equal(reset.status, 200)
      assert.ok(reset.error, 'the TLS connection is reset mid-body')
      assert.ok(reset.body.length < BODY.length)
    } finally {
      await dispatcher.close()
    }
  })
})
