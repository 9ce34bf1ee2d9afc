import type {Agent, Dispatcher} from 'undici'

export interface UndiciLite {
  readonly Agent: typeof Agent
  request(dispatcher: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>
}

/**
 * undici's Agent and request() without undici's index module, which also
 * builds fetch, WebSocket, EventSource, caches and mocks: about 45 ms of a cold
 * `fetch` that is mostly start-up (see bench/). The two paths are undici 7's;
 * test/unit/undici-lite.test.ts fails if an upgrade moves them.
 */
export async function loadUndici(): Promise<UndiciLite> {
  const [{default: AgentClass}, {default: request}] = await Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/api/api-request.js'),
  ])
  return {Agent: AgentClass, request: (dispatcher, options) => request.call(dispatcher, options)}
}
