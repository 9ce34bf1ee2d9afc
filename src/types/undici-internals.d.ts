// Types for the two undici 7 modules that src/net/undici-lite.ts loads directly.
declare module 'undici/lib/dispatcher/agent.js' {
  import type {Agent} from 'undici'

  const AgentClass: typeof Agent
  export default AgentClass
}

declare module 'undici/lib/api/api-request.js' {
  import type {Dispatcher} from 'undici'

  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>
  export default request
}

// Loaded by src/net/undici-proxy.ts, only when a proxy variable is set.
declare module 'undici/lib/dispatcher/env-http-proxy-agent.js' {
  import type {EnvHttpProxyAgent} from 'undici'

  const EnvHttpProxyAgentClass: typeof EnvHttpProxyAgent
  export default EnvHttpProxyAgentClass
}

declare module 'undici/lib/dispatcher/pool.js' {
  import type {Pool} from 'undici'

  const PoolClass: typeof Pool
  export default PoolClass
}
