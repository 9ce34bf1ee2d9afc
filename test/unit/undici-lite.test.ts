import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import http from 'node:http'
import {createRequire} from 'node:module'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'

import {UNDICI_BUNDLE, loadUndici, undiciBundlePath} from '../../src/net/undici-lite.js'
import {PROJECT_ROOT} from '../support/cli.js'

const run = promisify(execFile)
const require = createRequire(import.meta.url)

// A server for the requests below: bodies, keep-alive, HEAD, chunked, big headers.
let server: http.Server
let origin: string

before(async () => {
  server = http.createServer({maxHeaderSize: 64 * 1024}, (req, res) => {
    if (req.url === '/big-header') res.setHeader('x-big', 'a'.repeat(20 * 1024))
    if (req.url === '/chunked') {
      res.write('one,')
      setTimeout(() => res.end('two'), 10)
      return
    }
    res.end(`${req.method} ${req.url} ${req.socket.remotePort}`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(() => server.close())

/**
 * Runs requests with dist/undici-lite.bundle.cjs in a fresh process and reports
 * what they returned and which of the modules it is meant to spare got loaded.
 */
async function inChild(nodeArgs: string[] = []): Promise<{results: Record<string, unknown>; loaded: string[]; version: string}> {
  const script = `
    const {Agent, request, version} = require(${JSON.stringify(undiciBundlePath())})
    const origin = ${JSON.stringify(origin)}
    const results = {}
    async function text(options) {
      try {
        const response = await request.call(agent, {method: 'GET', origin, ...options})
        return response.statusCode + ' ' + (await response.body.text())
      } catch (error) {
        return error.code
      }
    }
    const agent = new Agent({keepAliveTimeout: 4000})
    ;(async () => {
      results.first = await text({path: '/a?b=1'})
      results.second = await text({path: '/c'})
      results.third = await text({path: '/d'})
      const head = await request.call(agent, {method: 'HEAD', origin, path: '/h'})
      results.head = head.statusCode + ' ' + head.headers['content-length']
      await head.body.dump()
      results.chunked = await text({path: '/chunked'})
      results.bigHeader = await text({path: '/big-header'})
      results.refused = await text({origin: 'http://127.0.0.1:9', path: '/'})
      await agent.close()
      const loaded = ['assert', 'http', 'http2', '_http_client', 'tls'].filter((name) => process.moduleLoadList.includes('NativeModule ' + name))
      process.stdout.write(JSON.stringify({results, loaded, version}))
    })()
  `
  const {stdout} = await run(process.execPath, [...nodeArgs, '-e', script], {cwd: PROJECT_ROOT})
  return JSON.parse(stdout)
}

describe('undici-lite', () => {
  it('loads the bundle that the build makes and makes a request', async () => {
    const {Agent, request, source} = await loadUndici()
    assert.equal(source, 'bundle')
    const agent = new Agent()
    try {
      const response = await request(agent, {method: 'GET', origin, path: '/a?b=1'})
      assert.equal(response.statusCode, 200)
      assert.match(await response.body.text(), /^GET \/a\?b=1 \d+$/)
    } finally {
      await agent.close()
    }
  })

  it('finds dist/undici-lite.bundle.cjs from src/net and dist/net', () => {
    assert.equal(undiciBundlePath(), path.join(PROJECT_ROOT, 'dist', UNDICI_BUNDLE))
  })

  it('bundles the undici that is installed', async () => {
    const installed = JSON.parse(await readFile(require.resolve('undici/package.json'), 'utf8')) as {version: string}
    const {version} = await inChild()
    assert.equal(version, installed.version, 'npm run build after an undici upgrade')
  })

  // The guard for undici upgrades: if undici starts to use more of node:assert
  // or node:http than scripts/undici-lite/ provides, the stubs load the real
  // module (so the CLI still works) and this test fails; if a request reached
  // the HTTP/2 stub, it would fail.
  it('makes requests without loading node:assert, node:http or node:http2', async () => {
    const {results, loaded} = await inChild()
    const [first, second] = [results.first as string, results.second as string]
    assert.match(first, /^200 GET \/a\?b=1 \d+$/)
    assert.match(second, /^200 GET \/c \d+$/)
    const ports = new Set([first, second, results.third as string].map((result) => result.split(' ').at(-1)))
    assert.ok(ports.size < 3, 'connections are kept alive and reused')
    assert.match(results.head as string, /^200 /)
    assert.equal(results.chunked, '200 one,two')
    assert.equal(results.bigHeader, 'UND_ERR_HEADERS_OVERFLOW', "Node's default 16 KiB limit on response headers")
    assert.equal(results.refused, 'ECONNREFUSED')
    assert.deepEqual(loaded, [])
  })

  it("keeps Node's header limit when --max-http-header-size raises it", async () => {
    const {results} = await inChild(['--max-http-header-size=65536'])
    assert.match(results.bigHeader as string, /^200 GET \/big-header/)
  })

  it("parses with undici's own llhttp, read from the binaries next to the bundle", async () => {
    for (const name of ['llhttp.wasm', 'llhttp_simd.wasm']) {
      const shipped = await readFile(path.join(PROJECT_ROOT, 'dist', name))
      const undicis = require(`undici/lib/llhttp/${name.replace('.wasm', '-wasm.js')}`) as Buffer
      assert.ok(shipped.equals(undicis), `dist/${name} is undici's (npm run build after an undici upgrade)`)
    }
    const bundle = await readFile(undiciBundlePath(), 'utf8')
    assert.ok(bundle.length < 300_000, `the bundle carries no base64 WebAssembly, no HTTP/2 and no fetch API: ${bundle.length} bytes`)
  })

  it("provides node:http's values as Node has them", () => {
    const stubs = path.join(PROJECT_ROOT, 'scripts', 'undici-lite')
    const httpStub = require(path.join(stubs, 'node-http.cjs')) as typeof http
    assert.equal(httpStub.maxHeaderSize, http.maxHeaderSize)
    assert.equal(httpStub.IncomingMessage, http.IncomingMessage)
    // Anything else comes from the real module.
    assert.equal(httpStub.STATUS_CODES, http.STATUS_CODES)
    const assertStub = require(path.join(stubs, 'node-assert.cjs')) as typeof assert
    assert.doesNotThrow(() => assertStub(true))
    assert.throws(() => assertStub(false, 'broken'), {code: 'ERR_ASSERTION', message: 'broken'})
    assert.equal(typeof assertStub.strictEqual, 'function')
  })
})
