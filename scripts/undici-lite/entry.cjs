/* global module, require */
/* eslint-disable @typescript-eslint/no-require-imports -- esbuild follows these requires into undici */
'use strict'
// The entry of dist/undici-lite.bundle.cjs (scripts/bundle-fast-path.mjs): undici's
// Agent and request(), and nothing else of undici, in one file that
// src/net/undici-lite.ts loads on the first request. node:assert, node:http,
// undici's HTTP/2 client and its FormData body are replaced by the files next
// to this one (see them for why), its llhttp WebAssembly by binary files.
module.exports = {
  Agent: require('undici/lib/dispatcher/agent.js'),
  request: require('undici/lib/api/api-request.js'),
  version: require('undici/package.json').version,
}
