/* global module */
'use strict'
// node:http as the bundled undici sees it (scripts/bundle-fast-path.mjs).
// undici's client reads two things from it, and node:http with the HTTP server
// it loads costs a cold fetch about 5 ms:
// - maxHeaderSize, the default limit on response headers: Node's 16 KiB,
//   unless --max-http-header-size is given (then the real module answers);
// - IncomingMessage, compared by identity when a request body is destroyed:
//   the real class, from the one small module that defines it.
// Any other member goes to the real module, loaded then;
// test/unit/undici-lite.test.ts fails if a request loads it.
let real
const load = () => (real ??= process.getBuiltinModule('node:http'))

const headerSizeSet = () =>
  [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => arg.startsWith('--max-http-header-size'))

const provided = {
  get IncomingMessage() {
    return process.getBuiltinModule('_http_incoming').IncomingMessage
  },
  get maxHeaderSize() {
    return headerSizeSet() ? load().maxHeaderSize : 16 * 1024
  },
}

module.exports = new Proxy(provided, {get: (target, key) => (key in target ? target[key] : load()[key])})
