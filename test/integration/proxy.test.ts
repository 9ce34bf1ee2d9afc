/**
 * The proxy test infrastructure itself: requests through tinyproxy show up in
 * its log exactly, a NO_PROXY bypass does not, and the refusing proxy refuses
 * everything before connecting anywhere. Every target is on loopback.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, before, beforeEach, describe, it} from 'node:test'

import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {type LoopbackProxy, proxyServer, refusingProxyServer} from '../support/proxy.js'

const OBJ = '/public-builds/busybox/1.36.1/amd64/busybox'
const BODY = randomBytes(256 * 1024)

/** Runs `fn` with `vars` in process.env, the way the CLI would see them, then restores the environment. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]))
  Object.assign(process.env, vars)
  try {
    return await fn()
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name)
      else process.env[name] = value
    }
  }
}

function hostPort(url: string): string {
  return new URL(url).host
}

describe('test proxies', () => {
  let proxy: LoopbackProxy
  let refusing: LoopbackProxy
  let plain: ArtifactServer
  let secure: ArtifactServer

  before(async () => {
    ;[proxy, refusing, plain, secure] = await Promise.all([proxyServer(), refusingProxyServer(), startArtifactServer(), startArtifactServer({tls: true})])
  })
  after(() => Promise.all([plain.close(), secure.close()]))
  beforeEach(() => {
    for (const server of [plain, secure]) {
      server.clear()
      server.resetLog()
      server.put(OBJ, BODY)
    }
  })

  it('forwards a plain-http GET and logs it as GET with the absolute URL', async () => {
    const {ProxyAgent, request} = await import('undici')
    // undici tunnels even http:// through CONNECT unless told otherwise.
    const dispatcher = new ProxyAgent({proxyTunnel: false, uri: proxy.url})
    try {
      const mark = proxy.mark()
      const res = await request(`${plain.url}${OBJ}?alt=media`, {dispatcher})
      assert.equal(res.statusCode, 200)
      assert.deepEqual(Buffer.from(await res.body.arrayBuffer()), BODY)
      const logged = proxy.requestsSince(mark)
      assert.deepEqual(logged.map((r) => r.summary), [`GET ${plain.url}${OBJ}?alt=media`])
      assert.equal(logged[0]?.path, `${OBJ}?alt=media`)
      assert.deepEqual(plain.requests.map((r) => `${r.method} ${r.path}`), [`GET ${OBJ}`])
    } finally {
      await dispatcher.close()
    }
  })

  it("shows undici's default for http:// targets: a CONNECT tunnel", async () => {
    const {ProxyAgent, request} = await import('undici')
    const dispatcher = new ProxyAgent({uri: proxy.url})
    try {
      const mark = proxy.mark()
      const res = await request(`${plain.url}${OBJ}`, {dispatcher})
      await res.body.arrayBuffer()
      assert.deepEqual(proxy.requestsSince(mark).map((r) => r.summary), [`CONNECT ${hostPort(plain.url)}`])
    } finally {
      await dispatcher.close()
    }
  })

  it('tunnels https through CONNECT, with EnvHttpProxyAgent reading proxy.env()', async () => {
    const {EnvHttpProxyAgent, request} = await import('undici')
    await withEnv(proxy.env(), async () => {
      const dispatcher = new EnvHttpProxyAgent({requestTls: {ca: secure.ca}})
      try {
        const mark = proxy.mark()
        const res = await request(secure.url + OBJ, {dispatcher})
        assert.equal(res.statusCode, 200)
        assert.deepEqual(Buffer.from(await res.body.arrayBuffer()), BODY)
        const logged = proxy.requestsSince(mark)
        assert.deepEqual(logged.map((r) => r.summary), [`CONNECT ${hostPort(secure.url)}`])
        assert.equal(logged[0]?.port, Number(new URL(secure.url).port))
        assert.equal(secure.requests.length, 1)
      } finally {
        await dispatcher.close()
      }
    })
  })

  it('logs nothing for a host NO_PROXY names', async () => {
    const {EnvHttpProxyAgent, request} = await import('undici')
    await withEnv(proxy.env({noProxy: '127.0.0.1'}), async () => {
      const dispatcher = new EnvHttpProxyAgent({connect: {ca: secure.ca}})
      try {
        const mark = proxy.mark()
        for (const url of [plain.url + OBJ, secure.url + OBJ]) {
          const res = await request(url, {dispatcher})
          assert.equal(res.statusCode, 200)
          await res.body.arrayBuffer()
        }
        assert.deepEqual(proxy.linesSince(mark), [])
        assert.equal(plain.requests.length + secure.requests.length, 2)
      } finally {
        await dispatcher.close()
      }
    })
  })

  it('the refusing proxy answers 403 to requests and CONNECTs, logs them, and connects nowhere', async () => {
    const {ProxyAgent, request} = await import('undici')
    const forward = new ProxyAgent({proxyTunnel: false, uri: refusing.url})
    const tunnel = new ProxyAgent({requestTls: {ca: secure.ca}, uri: refusing.url})
    try {
      const mark = refusing.mark()
      const res = await request(plain.url + OBJ, {dispatcher: forward})
      assert.equal(res.statusCode, 403)
      await res.body.text()
      await assert.rejects(request(secure.url + OBJ, {dispatcher: tunnel}), /403/)

      assert.deepEqual(refusing.requestsSince(mark).map((r) => r.summary), [`GET ${plain.url}${OBJ}`, `CONNECT ${hostPort(secure.url)}`])
      const refusals = refusing.linesSince(mark).filter((line) => line.includes('Proxying refused on filtered domain "127.0.0.1"'))
      assert.equal(refusals.length, 2)
      assert.deepEqual(refusing.linesSince(mark).filter((line) => line.includes('Established connection')), [])
      assert.deepEqual([...plain.requests, ...secure.requests], [], 'no request reached a server')
    } finally {
      await Promise.all([forward.close(), tunnel.close()])
    }
  })
})
