import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {describe, it} from 'node:test'

import {loadUndici} from '../../src/net/undici-lite.js'

describe('undici-lite', () => {
  it('loads undici 7 Agent and request() from their module paths and makes a request', async () => {
    const server = http.createServer((req, res) => res.end(`${req.method} ${req.url}`))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {Agent, request} = await loadUndici()
    const agent = new Agent()
    try {
      const {port} = server.address() as AddressInfo
      const response = await request(agent, {method: 'GET', origin: `http://127.0.0.1:${port}`, path: '/a?b=1'})
      assert.equal(response.statusCode, 200)
      assert.equal(await response.body.text(), 'GET /a?b=1')
    } finally {
      await agent.close()
      server.close()
    }
  })
})
