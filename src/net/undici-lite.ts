import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {setV8Flag, startupHooks} from '../core/v8-flags.js'

// Types only, as aliases: the package itself is loaded lazily, below.
type Dispatcher = import('undici').Dispatcher
type RequestOptions = import('undici').Dispatcher.RequestOptions
type ResponseData = import('undici').Dispatcher.ResponseData

export interface UndiciLite {
  readonly Agent: typeof import('undici').Agent
  request(dispatcher: Dispatcher, options: RequestOptions): Promise<ResponseData>
  /** Where undici came from: the bundle that the build makes, or (no build, as with bin/dev.js) the package's own modules. */
  readonly source: 'bundle' | 'modules'
}

/** What dist/undici-lite.bundle.cjs exports (scripts/undici-lite/entry.cjs). */
interface UndiciBundle {
  readonly Agent: UndiciLite['Agent']
  readonly request: (this: Dispatcher, options: RequestOptions) => Promise<ResponseData>
  readonly version: string
}

export const UNDICI_BUNDLE = 'undici-lite.bundle.cjs'

let loaded: Promise<UndiciLite> | undefined

/**
 * undici's Agent and request() without undici's index module, which also
 * builds fetch, WebSocket, EventSource, caches and mocks, and without the
 * node:http2, node:http and node:assert modules that they would load, nor
 * the HTTP/2 client and fetch-API code that a GET over HTTP/1.1 never runs
 * (see scripts/undici-lite/): one file, compiled with a code cache when run through
 * bin/run.js. test/unit/undici-lite.test.ts fails if an undici upgrade breaks
 * it. Without a build, the two modules are loaded from the package. Loaded once.
 */
export function loadUndici(): Promise<UndiciLite> {
  loaded ??= load()
  return loaded
}

/** The bundle's path: dist/ holds it, and this module is in dist/ (bundled), dist/net/ or src/net/. */
export function undiciBundlePath(): string {
  const here = typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url))
  const root = path.basename(here) === 'net' ? path.resolve(here, '..', '..') : path.resolve(here, '..')
  return path.join(root, 'dist', UNDICI_BUNDLE)
}

async function load(): Promise<UndiciLite> {
  const hooks = startupHooks()
  // undici parses HTTP with WebAssembly, and V8 recompiles its hot functions
  // with TurboFan on background threads that process exit then waits for:
  // about 60 ms of every cold `fetch`, for code that never runs again. The
  // baseline compiler is plenty for a parser that only frames bodies (see
  // bench/). Set here, not at start-up: changing a V8 flag makes Node compile
  // its own modules afresh, which would slow the no-op fetch that never gets here.
  setV8Flag('--liftoff-only')
  const file = undiciBundlePath()
  if (existsSync(file)) {
    // node:module only without bin/run.js (tests importing src/): loading it loads Node's ES module loader, about 2 ms.
    const bundle = (hooks ? hooks.load(file) : (await import('node:module')).createRequire(file)(file)) as UndiciBundle
    return {Agent: bundle.Agent, request: (dispatcher, options) => bundle.request.call(dispatcher, options), source: 'bundle'}
  }
  const [{default: AgentClass}, {default: request}] = await Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/api/api-request.js'),
  ])
  return {Agent: AgentClass, request: (dispatcher, options) => request.call(dispatcher, options), source: 'modules'}
}
