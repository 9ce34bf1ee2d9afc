import type {ProxySettings} from '../core/config.js'

// Types only, as aliases: the package itself is imported lazily where it is used.
type Dispatcher = import('undici').Dispatcher

export interface DispatcherTimeouts {
  readonly bodyTimeout: number
  readonly connectTimeout: number
  readonly headersTimeout: number
  readonly keepAliveTimeout: number
}

/**
 * undici's EnvHttpProxyAgent for the proxies in `settings`, loaded only when a
 * proxy variable is set, so neither the no-op nor the usual cold `fetch` pays
 * for it. It comes from undici's index module, unlike undici-lite's Agent:
 * the proxy agent opens its tunnels with Dispatcher.connect(), which only the
 * index attaches (about 45 ms, paid only behind a proxy).
 *
 * https goes through a CONNECT tunnel; plain http is forwarded as an
 * absolute-URI request (proxyTunnel: false), as curl does, because proxies
 * commonly allow CONNECT to port 443 only. The settings are passed
 * explicitly, so the agent sees exactly what core/config read.
 */
export async function envProxyDispatcher(settings: ProxySettings, timeouts: DispatcherTimeouts): Promise<Dispatcher> {
  const {EnvHttpProxyAgent, Pool} = await import('undici')
  return new EnvHttpProxyAgent({
    ...timeouts,
    // The connection to the proxy that forwards plain http is made by this
    // factory without the agent's options; give it the same timeouts.
    factory: (origin, options) => new Pool(origin, {...timeouts, ...options}),
    httpProxy: settings.httpProxy,
    httpsProxy: settings.httpsProxy ?? settings.httpProxy,
    noProxy: settings.noProxy,
    proxyTunnel: false,
  })
}
