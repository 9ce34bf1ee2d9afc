import type https from 'node:https'
import type {Duplex} from 'node:stream'
import type tls from 'node:tls'

import type {ProxySettings} from '../core/config.js'
import {OperationalError} from '../core/errors.js'
import {redactUrl} from '../core/url-policy.js'
import {proxyFor} from './proxy-rules.js'

type ConnectCallback = (error: Error | null, stream: Duplex) => void

/** `Proxy-Authorization` for a proxy URL that carries `user:password@`. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`
}

/**
 * An https.Agent for clients built on Node's http module (the AWS SDK's
 * NodeHttpHandler): each new connection goes through a CONNECT tunnel when
 * the proxy rules (proxy-rules.ts) say so, and directly otherwise. TLS runs
 * end to end inside the tunnel, so the proxy sees only `CONNECT host:port`,
 * and request headers and bodies are never rewritten (the failure some proxy
 * agents show with the AWS SDK on large uploads). Node's http, https and tls
 * modules are loaded here, on first use, not by the fast path that bundles
 * this module.
 */
export async function proxyTunnelAgent(proxies: ProxySettings, timeoutMs: number, options: https.AgentOptions = {}): Promise<https.Agent> {
  const [{default: http}, {default: httpsModule}, {isIP}, {default: tlsModule}] = await Promise.all([import('node:http'), import('node:https'), import('node:net'), import('node:tls')])

  /** A raw socket to `target` through the proxy's CONNECT method. */
  const openTunnel = (proxy: URL, target: URL): Promise<Duplex> => {
    const shown = redactUrl(proxy.href)
    const authorization = proxyAuthorization(proxy)
    return new Promise((resolve, reject) => {
      const request = (proxy.protocol === 'https:' ? httpsModule : http).request({
        agent: false,
        headers: {host: target.host, ...(authorization ? {'proxy-authorization': authorization} : {})},
        host: proxy.hostname.replace(/^\[|\]$/g, ''),
        method: 'CONNECT',
        path: target.host,
        port: Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80),
        timeout: timeoutMs,
      })
      request.once('connect', (response, socket) => {
        request.setTimeout(0)
        if (response.statusCode === 200) {
          resolve(socket)
          return
        }
        socket.destroy()
        reject(new OperationalError(`the proxy ${shown} refused the tunnel to ${target.host} (HTTP ${response.statusCode} to CONNECT): check HTTPS_PROXY and NO_PROXY`))
      })
      request.once('timeout', () => request.destroy(Object.assign(new Error(`no answer from the proxy ${shown} within ${timeoutMs} ms`), {code: 'ETIMEDOUT'})))
      request.once('error', reject)
      request.end()
    })
  }

  class ProxyTunnelAgent extends httpsModule.Agent {
    override createConnection(connection: https.RequestOptions, callback?: ConnectCallback): Duplex | null | undefined {
      const host = connection.host ?? connection.hostname ?? 'localhost'
      const port = Number(connection.port) || 443
      const target = new URL(`https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`)
      const proxy = proxyFor(target, proxies)
      if (!proxy) return super.createConnection(connection, callback)
      openTunnel(new URL(proxy), target).then(
        (socket) => {
          const servername = connection.servername ?? (isIP(host) === 0 ? host : undefined)
          const {path: _path, ...tlsOptions} = connection as https.RequestOptions & tls.ConnectionOptions
          callback?.(null, tlsModule.connect({...tlsOptions, ...(servername ? {servername} : {}), socket: socket as import('node:net').Socket}))
        },
        (error: Error) => callback?.(error, undefined as unknown as Duplex),
      )
      return undefined
    }
  }
  return new ProxyTunnelAgent(options)
}
