import {setFlagsFromString} from 'node:v8'

// Types only, as aliases: the package itself is imported lazily where it is used.
type Dispatcher = import('undici').Dispatcher
type RequestOptions = import('undici').Dispatcher.RequestOptions
type ResponseData = import('undici').Dispatcher.ResponseData

export interface UndiciLite {
  readonly Agent: typeof import('undici').Agent
  request(dispatcher: Dispatcher, options: RequestOptions): Promise<ResponseData>
}

let loaded: Promise<UndiciLite> | undefined

/**
 * undici's Agent and request() without undici's index module, which also
 * builds fetch, WebSocket, EventSource, caches and mocks: about 45 ms of a cold
 * `fetch` that is mostly start-up (see bench/). The two paths are undici 7's;
 * test/unit/undici-lite.test.ts fails if an upgrade moves them. Loaded once.
 */
export function loadUndici(): Promise<UndiciLite> {
  loaded ??= load()
  return loaded
}

async function load(): Promise<UndiciLite> {
  // undici parses HTTP with WebAssembly, and V8 recompiles its hot functions
  // with TurboFan on background threads that process exit then waits for:
  // about 60 ms of every cold `fetch`, for code that never runs again. The
  // baseline compiler is plenty for a parser that only frames bodies (see
  // bench/). Set here, not at start-up: changing a V8 flag makes Node compile
  // its own modules afresh, which would slow the no-op fetch that never gets here.
  setFlagsFromString('--liftoff-only')
  const [{default: AgentClass}, {default: request}] = await Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/api/api-request.js'),
  ])
  return {Agent: AgentClass, request: (dispatcher, options) => request.call(dispatcher, options)}
}
