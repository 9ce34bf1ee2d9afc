/* global module */
'use strict'
// node:assert as the bundled undici sees it (scripts/bundle-fast-path.mjs).
// Agent and request() only call assert(value), and loading node:assert for that
// costs a cold fetch about 2 ms. A failed assertion, and any member an undici
// upgrade starts to use, go to the real module, loaded then;
// test/unit/undici-lite.test.ts fails if a request loads it.
let real
const load = () => (real ??= process.getBuiltinModule('node:assert'))

function assert(value, message) {
  if (!value) load().ok(value, message ?? 'undici: internal assertion failed')
}

module.exports = new Proxy(assert, {get: (target, key) => (key in target ? target[key] : load()[key])})
