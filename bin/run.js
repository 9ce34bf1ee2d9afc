#!/usr/bin/env node
/* global __dirname, require */
// CommonJS (bin/package.json): `fetch` runs on every `make`, and an ES module
// entry would start Node's ES module loader, a few milliseconds, before any of
// our code runs. Well-formed fetches skip oclif (src/cli/fast-path.ts) and run
// from bundled files (scripts/bundle-fast-path.mjs), compiled with a V8 code
// cache (below): an up-to-date fetch from the first, small one alone
// (src/cli/up-to-date-path.ts). Everything else, and help, goes to oclif. See
// bench/README.md.
'use strict'

const fs = process.getBuiltinModule('node:fs')
const path = process.getBuiltinModule('node:path')

// --- V8 code cache -----------------------------------------------------------
//
// Node 20 compiles every CommonJS file from source on every start. The bundles
// are compiled here with vm.Script instead, from cachedData that an earlier run
// left in $XDG_CACHE_HOME/e2b-artifacts (or ~/.cache/e2b-artifacts).
// - Key: the Node version and arch, the bundle's sha256, and the V8 flags this
//   process had set when it compiled the bundle. A file also holds a sha256 of
//   its key and data: V8 itself checks little more than the source's length.
// - A missing, corrupt, stale or rejected cache is ignored: the bundle is
//   compiled from source and behaves the same. Every cache error is swallowed.
// - Written atomically (temp file, rename) only when the cache was not used,
//   at exit or just before this process first changes a V8 flag. V8 rejects a
//   cache made after a flag change in any run that does not make it, so none is
//   written after one; code that sets a flag reports it first with v8Flag().
// - A cache holds the code of the functions that the run which wrote it had
//   compiled; any other is compiled from source on every run that calls it. A
//   cold fetch runs only the start of the up-to-date bundle, so its cache
//   lacks the check that every later no-op runs (about 0.7 ms a run). A file
//   records whether its run was a full one (cacheAfterFullRun); a partial
//   cache is written again, once, by the first full run that uses it.

const MAGIC = Buffer.from('E2BV8C2\n')
const PARTIAL = Buffer.of(0)
const FULL = Buffer.of(1)
// Node's CommonJS wrapper, plus __import (see loadBundle).
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname, __import) {'
const WRAPPER_TAIL = '\n})'
const DIGEST_BYTES = 32
const KEEP_PER_BUNDLE = 8

const debugging = /(^|,)\s*e2b-artifacts\s*(,|$)/i.test(process.env.NODE_DEBUG ?? '')
function debug(message) {
  if (debugging) fs.writeSync(2, `E2B-ARTIFACTS ${process.pid}: ${message}\n`)
}

/** V8 flags this process changed, in order. */
const flagsSet = []
/** Bundles compiled without an accepted cache, still to be written. */
const pending = []
/** Every bundle compiled with a cache file, by path (see cacheAfterFullRun). */
const compiled = new Map()

function cacheDir() {
  const xdg = process.env.XDG_CACHE_HOME
  // The XDG spec: a relative path is invalid and is ignored.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(process.env.HOME || process.getBuiltinModule('node:os').homedir(), '.cache')
  return path.join(base, 'e2b-artifacts')
}

function sha256(...parts) {
  const hash = process.getBuiltinModule('node:crypto').createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest()
}

/** The cached data in `file` and whether a full run wrote it, if its header and digest hold for `key`; else undefined. */
function readCache(file, key) {
  let content
  try {
    content = fs.readFileSync(file)
  } catch {
    return undefined
  }
  const header = MAGIC.length + 1 + DIGEST_BYTES
  const coverage = content.subarray(MAGIC.length, MAGIC.length + 1)
  const data = content.subarray(header)
  const valid =
    content.length > header &&
    content.subarray(0, MAGIC.length).equals(MAGIC) &&
    (coverage.equals(PARTIAL) || coverage.equals(FULL)) &&
    content.subarray(MAGIC.length + 1, header).equals(sha256(key, coverage, data))
  if (!valid) debug(`code cache ${file}: corrupt, ignored`)
  return valid ? {data, full: coverage.equals(FULL)} : undefined
}

function writeCache(entry) {
  const temp = `${entry.cacheFile}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`
  try {
    const data = entry.script.createCachedData()
    const coverage = entry.full ? FULL : PARTIAL
    fs.mkdirSync(path.dirname(entry.cacheFile), {recursive: true})
    fs.writeFileSync(temp, Buffer.concat([MAGIC, coverage, sha256(entry.key, coverage, data), data]), {flag: 'wx'})
    fs.renameSync(temp, entry.cacheFile)
    debug(`code cache ${entry.cacheFile}: written (${data.length} bytes)`)
    prune(entry.cacheFile, entry.prefix)
  } catch (error) {
    debug(`code cache ${entry.cacheFile}: not written: ${error.message}`)
    try {
      fs.rmSync(temp, {force: true})
    } catch {
      // Nothing more to do: the cache is optional.
    }
  }
}

/** Keeps the newest KEEP_PER_BUNDLE caches of one bundle (builds, Node versions, flags) and deletes the rest. */
function prune(keep, prefix) {
  const dir = path.dirname(keep)
  const others = fs
    .readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && name.endsWith('.v8') && path.join(dir, name) !== keep)
    .map((name) => {
      const file = path.join(dir, name)
      return {file, mtime: fs.statSync(file, {throwIfNoEntry: false})?.mtimeMs ?? 0}
    })
    .sort((a, b) => b.mtime - a.mtime)
  for (const {file} of others.slice(KEEP_PER_BUNDLE - 1)) fs.rmSync(file, {force: true})
}

/** Writes the caches still pending that are valid for the flags set now. */
function flushCodeCache() {
  const flags = flagsSet.join(' ')
  for (const entry of pending.splice(0)) {
    if (entry.flags === flags) writeCache(entry)
    else debug(`code cache ${entry.cacheFile}: not written: V8 flags changed since it was compiled`)
  }
}

/**
 * Runs the CommonJS file `file` (a bundle) and returns its exports, compiled
 * with the code cache. Its dynamic import()s must have been rewritten to
 * __import() (scripts/bundle-fast-path.mjs), which is defined here: import() in
 * code compiled by vm.Script, from cachedData above all, has no loader to call.
 */
function loadBundle(file) {
  const vm = process.getBuiltinModule('node:vm')
  const bytes = fs.readFileSync(file)
  const flags = flagsSet.join(' ')
  // Of the bytes, not of the string, which would be encoded to UTF-8 again.
  const sourceHash = sha256(WRAPPER_HEAD, WRAPPER_TAIL, bytes).toString('hex')
  const key = `${process.version} ${process.arch} ${sourceHash} ${flags}`
  const prefix = `${path.basename(file, '.cjs')}-`
  const tag = flags === '' ? '' : `-${sha256(flags).toString('hex').slice(0, 8)}`
  let cacheFile
  try {
    cacheFile = path.join(cacheDir(), `${prefix}${process.version}-${process.arch}-${sourceHash.slice(0, 16)}${tag}.v8`)
  } catch (error) {
    debug(`code cache for ${file}: no cache directory: ${error.message}`)
  }
  const cached = cacheFile && readCache(cacheFile, key)
  const script = new vm.Script(`${WRAPPER_HEAD}${bytes.toString('utf8')}${WRAPPER_TAIL}`, {cachedData: cached?.data, filename: file})
  if (cacheFile) {
    const entry = {cacheFile, flags, full: false, key, prefix, script}
    compiled.set(file, entry)
    if (cached && !script.cachedDataRejected) {
      debug(`code cache ${cacheFile}: accepted`)
      entry.full = cached.full
    } else {
      debug(`code cache ${cacheFile}: ${cached ? 'rejected' : 'absent'}`)
      pending.push(entry)
    }
  }
  // This file's require: the bundles require only built-ins, and would resolve a
  // package through the same node_modules directories from dist/ as from bin/.
  const bundleModule = {exports: {}}
  script.runInThisContext().call(bundleModule.exports, bundleModule.exports, require, bundleModule, file, path.dirname(file), importFromEntry)
  return bundleModule.exports
}

/**
 * Records that this run took bundle `file`'s longest path (an up-to-date fetch
 * runs all of the up-to-date bundle), so that a cache written from it holds
 * the code of everything later runs call. A partial cache that this run
 * accepted is written again at exit.
 */
function cacheAfterFullRun(file) {
  const entry = compiled.get(file)
  if (!entry || entry.full) return
  entry.full = true
  if (pending.includes(entry)) return
  debug(`code cache ${entry.cacheFile}: partial, written again at exit`)
  pending.push(entry)
}

function importFromEntry(specifier) {
  return import(specifier)
}

// For code in the bundles (src/net/undici-lite.ts): see loadBundle and v8Flag above.
globalThis[Symbol.for('e2b-artifacts.startup')] = Object.freeze({
  load: loadBundle,
  v8Flag(flag) {
    flushCodeCache()
    flagsSet.push(flag)
  },
})

// --- output streams ----------------------------------------------------------
//
// process.stdout and process.stderr are built on first use, about 0.5 ms each;
// the fast path prints without them (src/cli/direct-write.ts). Only the streams
// that some code asked for can hold output to flush at exit.

const streamsInUse = new Set()
for (const name of ['stdout', 'stderr']) {
  const descriptor = Object.getOwnPropertyDescriptor(process, name)
  if (!descriptor?.get || !descriptor.configurable) {
    streamsInUse.add(process[name])
    continue
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: descriptor.enumerable,
    get() {
      const stream = descriptor.get.call(this)
      streamsInUse.add(stream)
      return stream
    },
  })
}

// --- the command -------------------------------------------------------------

async function main() {
  const argv = process.argv.slice(2)
  const dist = path.join(__dirname, '..', 'dist')
  // An up-to-date fetch ends in the first, small bundle; everything else goes on
  // to the fast path with what the first learnt, and from there maybe to oclif.
  const upToDateBundle = path.join(dist, 'up-to-date.bundle.cjs')
  const handoff = loadBundle(upToDateBundle).tryUpToDate(argv)
  if (handoff === true) {
    cacheAfterFullRun(upToDateBundle)
  } else if (!(await loadBundle(path.join(dist, 'fast-path.bundle.cjs')).tryFastPath(argv, handoff))) {
    // Before oclif and any command: they may change V8 flags.
    flushCodeCache()
    const {execute} = await import('@oclif/core')
    await execute({dir: path.join(__dirname, '..')})
  }
  flushCodeCache()
  // Pooled connections and SDK timers must not hold a finished command open, but
  // a pipe may still hold output (a large --json report): exit once it is flushed.
  await Promise.all([...streamsInUse].map((stream) => new Promise((resolve) => stream.write('', resolve))))
  process.exit()
}

main()
