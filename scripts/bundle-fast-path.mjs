// Builds the two files that a `fetch` on every `make` runs from (bench/fetch.sh):
//
// dist/fast-path.bundle.cjs: the fetch fast path (dist/cli/fast-path.js and
//   the modules it reaches) in one CommonJS file, which bin/run.js compiles with a
//   V8 code cache. CommonJS, not ESM: an ES module bundle hoists every built-in
//   it imports to the top, while esbuild keeps a CommonJS bundle's require()s
//   inside the lazy initialisers of the modules that are only imported
//   dynamically (the download machinery), so a no-op fetch loads none of them.
//   Packages stay external and are loaded only on the paths that use them.
//   Their dynamic import()s are rewritten to __import(), a function that
//   bin/run.js passes in: import() in code compiled by vm.Script (from
//   cachedData above all) has no module loader to call.
//
// dist/undici-lite.bundle.cjs: undici's Agent and request() in one file
//   (scripts/undici-lite/), with the little they need from node:assert,
//   node:http and node:http2 provided without loading those modules.
//   src/net/undici-lite.ts loads it on the first request.
import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {build} from 'esbuild'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')

const common = {bundle: true, format: 'cjs', legalComments: 'none', logLevel: 'warning', platform: 'node', target: 'node20'}

// --- dist/fast-path.bundle.cjs -------------------------------------------------

const fastPath = path.join(dist, 'fast-path.bundle.cjs')
await build({
  ...common,
  entryPoints: [path.join(dist, 'cli', 'fast-path.js')],
  // src/net/undici-lite.ts reads import.meta.url only where __dirname is undefined (ESM).
  logOverride: {'empty-import-meta': 'silent'},
  outfile: fastPath,
  packages: 'external',
})

const IMPORT = /\bimport\(("[^"\\]+")\)/g
const source = await readFile(fastPath, 'utf8')
const rewritten = source.replace(IMPORT, '__import($1)')
const left = /\bimport\s*\(|\bimport\.meta\b/.exec(rewritten)
if (left) {
  const line = rewritten.slice(0, left.index).split('\n').length
  throw new Error(`${fastPath}:${line}: an import() or import.meta that bin/run.js cannot serve: ${left[0]}`)
}
await writeFile(fastPath, rewritten)

// --- dist/undici-lite.bundle.cjs -------------------------------------------------

const stubs = {
  'node:assert': path.join(root, 'scripts', 'undici-lite', 'node-assert.cjs'),
  'node:http': path.join(root, 'scripts', 'undici-lite', 'node-http.cjs'),
  'node:http2': path.join(root, 'scripts', 'undici-lite', 'node-http2.cjs'),
}
const stubbed = new Set()
await build({
  ...common,
  entryPoints: [path.join(root, 'scripts', 'undici-lite', 'entry.cjs')],
  outfile: path.join(dist, 'undici-lite.bundle.cjs'),
  plugins: [
    {
      name: 'undici-lite-stubs',
      setup(builder) {
        builder.onResolve({filter: /^node:(assert|http|http2)$/}, (args) => {
          // undici's own requires get the stubs; the stubs' requires get the real module.
          if (!args.importer.includes(`${path.sep}node_modules${path.sep}undici${path.sep}`)) return {external: true, path: args.path}
          stubbed.add(args.path)
          return {path: stubs[args.path]}
        })
      },
    },
  ],
})
const missing = Object.keys(stubs).filter((name) => !stubbed.has(name))
if (missing.length > 0) {
  // Harmless, but undici changed: check scripts/undici-lite/ against it.
  console.warn(`warning: undici no longer requires ${missing.join(', ')}; scripts/undici-lite/ stubs it for nothing`)
}
