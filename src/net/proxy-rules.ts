import type {ProxySettings} from '../core/config.js'

/**
 * Which proxy, if any, a connection to a URL goes through: curl's rules, which
 * undici's EnvHttpProxyAgent follows too, so every store decides alike.
 * - https:// targets use HTTPS_PROXY, or HTTP_PROXY when only that is set
 *   (as undici and the GCS SDK's gaxios do); http:// targets use HTTP_PROXY.
 * - Loopback is not special: 127.0.0.1 goes through the proxy unless NO_PROXY names it.
 * - A NO_PROXY entry matches that host and its subdomains (`example.com`,
 *   `.example.com` and `*.example.com` all mean both), optionally on one port
 *   (`host:8080`); `*` alone bypasses the proxy for everything.
 */

const DEFAULT_PORTS: Readonly<Record<string, number>> = {'http:': 80, 'https:': 443}

interface NoProxyEntry {
  readonly hostname: string
  /** 0: any port. */
  readonly port: number
}

function parseNoProxy(value: string): NoProxyEntry[] {
  return value
    .split(/[\s,]+/)
    .filter((entry) => entry !== '')
    .map((entry) => {
      const parsed = /^(.+):(\d+)$/.exec(entry)
      return {hostname: (parsed ? parsed[1]! : entry).replace(/^\*?\./, '').toLowerCase(), port: parsed ? Number(parsed[2]) : 0}
    })
}

/** Whether NO_PROXY sends a connection to this host and port directly. */
export function bypassesProxy(hostname: string, port: number, noProxy: string): boolean {
  if (noProxy.trim() === '*') return true
  const host = hostname.toLowerCase()
  return parseNoProxy(noProxy).some((entry) => (entry.port === 0 || entry.port === port) && (host === entry.hostname || host.endsWith(`.${entry.hostname}`)))
}

/** The proxy URL for a connection to `target`, or undefined for a direct connection. */
export function proxyFor(target: URL, settings: ProxySettings | undefined): string | undefined {
  if (!settings) return undefined
  const proxy = target.protocol === 'https:' ? (settings.httpsProxy ?? settings.httpProxy) : target.protocol === 'http:' ? settings.httpProxy : undefined
  if (!proxy) return undefined
  // url.host keeps IPv6 brackets, as NO_PROXY entries spell them.
  const hostname = target.host.replace(/:\d*$/, '')
  const port = Number(target.port) || DEFAULT_PORTS[target.protocol] || 0
  return bypassesProxy(hostname, port, settings.noProxy) ? undefined : proxy
}
