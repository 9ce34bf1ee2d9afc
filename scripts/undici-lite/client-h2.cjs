/* global module */
'use strict'
// lib/dispatcher/client-h2.js as the bundled undici sees it
// (scripts/bundle-fast-path.mjs). undici's client calls it only for a socket
// that negotiated HTTP/2 through ALPN, which it offers only with allowH2, and
// the tool never sets that. Without it the bundle also needs nothing of
// node:http2 and 26 KB less source. test/unit/undici-lite.test.ts checks that
// a request never gets here.
module.exports = function connectH2() {
  throw new Error('undici-lite: HTTP/2 is not bundled (allowH2 must stay off)')
}
