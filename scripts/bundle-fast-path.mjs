// Builds the files that a `fetch` on every `make` runs from (bench/fetch.sh):
//
// dist/up-to-date.bundle.cjs: the first code every command runs
//   (dist/cli/up-to-date-path.js and the modules it reaches): the whole
//   up-to-date fetch and nothing more, about a quarter of the fast path. The
//   no-op fetch compiles and runs only this.
// dist/fast-path.bundle.cjs: the fetch fast path (dist/cli/fast-path.js and
//   the modules it reaches), which runs when the up-to-date path has not ended
//   the command.
//   Both are one CommonJS file each, which bin/run.js compiles with a V8 code
//   cache. CommonJS, not ESM: an ES module bundle hoists every built-in it
//   imports to the top, while esbuild keeps a CommonJS bundle's require()s
//   inside the lazy initialisers of the modules that are only imported
//   dynamically (the download machinery), so a no-op fetch loads none of them.
//   Packages stay external and are loaded only on the paths that use them.
//   Their dynamic import()s are rewritten to __import(), a function that
//   bin/run.js passes in: import() in code compiled by vm.Script (from
//   cachedData above all) has no module loader to call.
//
// dist/undici-lite.bundle.cjs: undici's Agent and request() in one file
//   (scripts/undici-lite/), with the little they need from node:assert and
//   node:http provided without loading those modules, and without the parts
//   of undici that a GET or HEAD over HTTP/1.1 never runs (HTTP/2, FormData
//   bodies). src/net/undici-lite.ts loads it on the first request.
// dist/llhttp_simd.wasm, dist/llhttp.wasm: undici's HTTP parser, which its
//   modules carry as base64 text (72 KB each); the bundle reads the binary
//   instead, so a cold fetch neither hashes nor deserialises that text.
import {readFile, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {build} from 'esbuild'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')

const common = {bundle: true, format: 'cjs', legalComments: 'none', logLevel: 'warning', platform: 'node', target: 'node20'}

// --- dist/up-to-date.bundle.cjs, dist/fast-path.bundle.cjs -----------------------

const IMPORT = /\bimport\(("[^"\\]+")\)/g

/** Bundles dist/cli/`entry`.js into dist/`name`.bundle.cjs, with its import()s rewritten for bin/run.js. */
async function bundleForRunner(entry, name) {
  const outfile = path.join(dist, `${name}.bundle.cjs`)
  await build({
    ...common,
    entryPoints: [path.join(dist, 'cli', `${entry}.js`)],
    // src/net/undici-lite.ts reads import.meta.url only where __dirname is undefined (ESM).
    logOverride: {'empty-import-meta': 'silent'},
    outfile,
    packages: 'external',
  })
  const rewritten = (await readFile(outfile, 'utf8')).replace(IMPORT, '__import($1)')
  const left = /\bimport\s*\(|\bimport\.meta\b/.exec(rewritten)
  if (left) {
    const line = rewritten.slice(0, left.index).split('\n').length
    throw new Error(`${outfile}:${line}: an import() or import.meta that bin/run.js cannot serve: ${left[0]}`)
  }
  await writeFile(outfile, rewritten)
}

await bundleForRunner('up-to-date-path', 'up-to-date')
await bundleForRunner('fast-path', 'fast-path')

// --- dist/undici-lite.bundle.cjs -------------------------------------------------

const require = createRequire(import.meta.url)
const lite = path.join(root, 'scripts', 'undici-lite')
// What undici requires, by the specifier it uses, and what the bundle gets instead.
const stubs = {
  '../llhttp/llhttp-wasm.js': {wasm: 'llhttp.wasm'},
  '../llhttp/llhttp_simd-wasm.js': {wasm: 'llhttp_simd.wasm'},
  '../web/fetch/body.js': {file: path.join(lite, 'fetch-body.cjs')},
  './client-h2.js': {file: path.join(lite, 'client-h2.cjs')},
  'node:assert': {file: path.join(lite, 'node-assert.cjs')},
  'node:http': {file: path.join(lite, 'node-http.cjs')},
}
for (const [specifier, stub] of Object.entries(stubs)) {
  if (stub.wasm) await writeFile(path.join(dist, stub.wasm), require(`undici/lib/llhttp/${path.basename(specifier)}`))
}
const stubbed = new Set()
const undiciDir = `${path.sep}node_modules${path.sep}undici${path.sep}`
await build({
  ...common,
  entryPoints: [path.join(lite, 'entry.cjs')],
  outfile: path.join(dist, 'undici-lite.bundle.cjs'),
  plugins: [
    {
      name: 'undici-lite-stubs',
      setup(builder) {
        builder.onResolve({filter: /^(node:(assert|http)|\.\.\/llhttp\/llhttp(_simd)?-wasm\.js|\.\.\/web\/fetch\/body\.js|\.\/client-h2\.js)$/}, (args) => {
          // undici's own requires get the stubs; the stubs' requires get the real module.
          if (!args.importer.includes(undiciDir)) return args.path.startsWith('node:') ? {external: true, path: args.path} : undefined
          stubbed.add(args.path)
          const stub = stubs[args.path]
          return stub.wasm ? {namespace: 'undici-lite-wasm', path: stub.wasm} : {path: stub.file}
        })
        // The version only, not the whole package.json (scripts and all).
        builder.onResolve({filter: /^undici\/package\.json$/}, () => ({namespace: 'undici-lite-version', path: 'version'}))
        builder.onLoad({filter: /.*/, namespace: 'undici-lite-version'}, () => ({
          contents: `module.exports = {version: ${JSON.stringify(require('undici/package.json').version)}}`,
          loader: 'js',
        }))
        // The binary next to the bundle: __dirname is dist/ both through bin/run.js and through require().
        builder.onLoad({filter: /.*/, namespace: 'undici-lite-wasm'}, (args) => ({
          contents: `module.exports = require('node:fs').readFileSync(require('node:path').join(__dirname, ${JSON.stringify(args.path)}))`,
          loader: 'js',
        }))
      },
    },
  ],
})
const missing = Object.keys(stubs).filter((name) => !stubbed.has(name))
if (missing.length > 0) {
  // Harmless, but undici changed: check scripts/undici-lite/ against it.
  console.warn(`warning: undici no longer requires ${missing.join(', ')}; scripts/undici-lite/ stubs it for nothing`)
}
