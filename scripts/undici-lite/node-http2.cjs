/* global module */
'use strict'
// node:http2 as the bundled undici sees it (scripts/bundle-fast-path.mjs).
// undici's client reads ten constants from it when it loads, and connects with
// it only for HTTP/2 (allowH2, off by default). node:http2 loads about 90
// modules, TLS included: about 10 ms of a cold fetch over plain HTTP/1.1.
// The constants are HTTP/2's own (RFC 9113); connect() and any other member go
// to the real module, loaded then. test/unit/undici-lite.test.ts checks the
// constants against the real module and fails if a request loads it.
let real
const load = () => (real ??= process.getBuiltinModule('node:http2'))

const constants = {
  HTTP2_HEADER_AUTHORITY: ':authority',
  HTTP2_HEADER_CONTENT_LENGTH: 'content-length',
  HTTP2_HEADER_EXPECT: 'expect',
  HTTP2_HEADER_METHOD: ':method',
  HTTP2_HEADER_PATH: ':path',
  HTTP2_HEADER_PROTOCOL: ':protocol',
  HTTP2_HEADER_SCHEME: ':scheme',
  HTTP2_HEADER_STATUS: ':status',
  NGHTTP2_CANCEL: 8,
  NGHTTP2_REFUSED_STREAM: 7,
}

const provided = {
  connect: (...args) => load().connect(...args),
  constants: new Proxy(constants, {get: (target, key) => (key in target ? target[key] : load().constants[key])}),
}

module.exports = new Proxy(provided, {get: (target, key) => (key in target ? target[key] : load()[key])})
