import type http from 'node:http'
import type https from 'node:https'

import type {ProxySettings} from '../core/config.js'
import {proxyFor} from '../net/proxy-rules.js'
import {proxyAuthorization, proxyTunnelAgent} from '../net/tunnel-agent.js'

// Types only, as aliases: the package itself is imported lazily where it is used.
type MiddlewareStack = import('@aws-sdk/client-s3').S3Client['middlewareStack']

/** The part of the SDK's HttpRequest that routing needs (a structural view, to avoid importing @smithy types). */
interface RoutableRequest {
  protocol?: string
  hostname?: string
  port?: number
  path?: string
  headers?: Record<string, string>
}

/**
 * The agents for the S3 client's NodeHttpHandler when a proxy is set: https
 * through a CONNECT tunnel (TLS end to end, request bytes untouched), decided
 * per connection by curl's NO_PROXY rules. Plain http connections are made
 * fresh for each request, because a forwarding proxy (tinyproxy, for one)
 * may close them after each response.
 */
export async function proxyAgents(proxies: ProxySettings, timeoutMs: number): Promise<{httpAgent: http.Agent; httpsAgent: https.Agent}> {
  const {Agent} = await import('node:http')
  return {
    httpAgent: new Agent({keepAlive: false}),
    httpsAgent: await proxyTunnelAgent(proxies, timeoutMs, {keepAlive: true, maxSockets: 50}),
  }
}

/**
 * Plain http (loopback endpoints only) is forwarded as curl does: the request
 * goes to the proxy with the absolute URL as its target and the original
 * Host header. The rewrite happens after signing and before the request is
 * built, so the signature, the headers and the body are exactly what they
 * would have been, whatever their size (proxy agents that patch a request
 * after Node has rendered its headers put those headers inside the body of
 * large uploads).
 */
export function forwardPlainHttp(stack: MiddlewareStack, proxies: ProxySettings): void {
  stack.add(
    (next) => async (args) => {
      const request = args.request as RoutableRequest | undefined
      if (request?.protocol !== 'http:' || !request.hostname) return next(args)
      const host = request.headers?.host ?? `${request.hostname}${request.port ? `:${request.port}` : ''}`
      const target = new URL(`http://${host}`)
      const proxy = proxyFor(target, proxies)
      if (!proxy) return next(args)
      const proxyUrl = new URL(proxy)
      const authorization = proxyAuthorization(proxyUrl)
      const forwarded = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as RoutableRequest, request, {
        headers: {...request.headers, host, ...(authorization ? {'proxy-authorization': authorization} : {})},
        hostname: proxyUrl.hostname,
        path: `${target.origin}${request.path ?? '/'}`,
        port: Number(proxyUrl.port) || 80,
      })
      return next({...args, request: forwarded})
    },
    {name: 'e2bForwardPlainHttpThroughProxy', priority: 'low', step: 'deserialize'},
  )
}
