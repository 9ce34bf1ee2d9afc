import assert from 'node:assert/strict'
import {afterEach, beforeEach, describe, it} from 'node:test'

import {proxySettings} from '../../src/core/config.js'
import {bypassesProxy, proxyFor} from '../../src/net/proxy-rules.js'

const VARIABLES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY']
let saved: Record<string, string | undefined> = {}
beforeEach(() => {
  saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]))
  for (const name of VARIABLES) Reflect.deleteProperty(process.env, name)
})
afterEach(() => {
  for (const name of VARIABLES) {
    if (saved[name] === undefined) Reflect.deleteProperty(process.env, name)
    else process.env[name] = saved[name]
  }
})

describe('proxy settings and rules (as curl)', () => {
  it('are absent unless a proxy variable is set, and read either case, lower case first', () => {
    assert.equal(proxySettings(), undefined)
    process.env.NO_PROXY = 'example.com'
    assert.equal(proxySettings(), undefined, 'NO_PROXY alone sets no proxy')
    process.env.HTTPS_PROXY = 'http://upper:3128'
    assert.deepEqual(proxySettings(), {httpsProxy: 'http://upper:3128', noProxy: 'example.com'})
    process.env.https_proxy = 'http://lower:3128'
    process.env.http_proxy = 'http://plain:3128'
    assert.deepEqual(proxySettings(), {httpProxy: 'http://plain:3128', httpsProxy: 'http://lower:3128', noProxy: 'example.com'})
  })

  it('send https to the https proxy (or the http one alone), plain http to the http proxy', () => {
    const both = {httpProxy: 'http://p:1', httpsProxy: 'http://s:2', noProxy: ''}
    assert.equal(proxyFor(new URL('https://storage.googleapis.com/b'), both), 'http://s:2')
    assert.equal(proxyFor(new URL('http://127.0.0.1:9000/b'), both), 'http://p:1')
    assert.equal(proxyFor(new URL('https://s3.amazonaws.com'), {httpProxy: 'http://p:1', noProxy: ''}), 'http://p:1')
    assert.equal(proxyFor(new URL('http://127.0.0.1/'), {httpsProxy: 'http://s:2', noProxy: ''}), undefined)
    assert.equal(proxyFor(new URL('https://x'), undefined), undefined)
  })

  it('proxy loopback too, unless NO_PROXY names it', () => {
    const settings = {httpsProxy: 'http://s:2', noProxy: ''}
    assert.equal(proxyFor(new URL('https://127.0.0.1:8443/'), settings), 'http://s:2')
    assert.equal(proxyFor(new URL('https://localhost/'), settings), 'http://s:2')
    assert.equal(proxyFor(new URL('https://127.0.0.1:8443/'), {...settings, noProxy: '127.0.0.1'}), undefined)
  })

  it('match NO_PROXY entries to the domain and its subdomains, optionally on one port; * matches all', () => {
    for (const entry of ['googleapis.com', '.googleapis.com', '*.googleapis.com', 'GOOGLEAPIS.COM']) {
      assert.equal(bypassesProxy('storage.googleapis.com', 443, entry), true, entry)
      assert.equal(bypassesProxy('googleapis.com', 443, entry), true, entry)
    }
    assert.equal(bypassesProxy('notgoogleapis.com', 443, 'googleapis.com'), false)
    assert.equal(bypassesProxy('s3.amazonaws.com', 443, 'example.com, amazonaws.com'), true)
    assert.equal(bypassesProxy('s3.amazonaws.com', 443, 'example.com amazonaws.com:8443'), false)
    assert.equal(bypassesProxy('s3.amazonaws.com', 8443, 'amazonaws.com:8443'), true)
    assert.equal(bypassesProxy('anything', 1, '*'), true)
    assert.equal(bypassesProxy('[::1]', 443, '[::1]'), true)
  })
})
