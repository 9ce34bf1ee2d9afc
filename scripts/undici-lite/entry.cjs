/* global module, require */
/* eslint-disable @typescript-eslint/no-require-imports -- esbuild follows these requires into undici */
'use strict'
// The entry of dist/undici-lite.bundle.cjs (scripts/bundle-fast-path.mjs): undici's
// Agent and request(), and nothing else of undici, in one file that
// src/net/undici-lite.ts loads on the first request. node:assert, node:http and
// node:http2 are replaced by the files next to this one (see them for why).
module.exports = {
  Agent: require('undici/lib/dispatcher/agent.js'),
  request: require('undici/lib/api/api-request.js'),
  version: require('undici/package.json').version,
}
