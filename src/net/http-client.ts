import type {Readable} from 'node:stream'

import {proxySettings, requestTimeoutMs} from '../core/config.js'
import {ArtifactError, NotFoundError, OperationalError, TransientError} from '../core/errors.js'
import {onRelease} from '../core/resources.js'
import {isLoopbackHost, redactUrl} from '../core/url-policy.js'
import {SlowTransferError, guardSpeed} from './speed-guard.js'
import {loadUndici} from './undici-lite.js'

// Types only, as aliases: the package itself is imported lazily where it is used.
type Dispatcher = import('undici').Dispatcher
type ResponseData = import('undici').Dispatcher.ResponseData

export const MAX_REDIRECTS = 5

export interface HttpResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: Readable
  /** The final URL after redirects. */
  readonly url: string
}

export interface HttpRequestOptions {
  readonly method?: 'GET' | 'HEAD'
  readonly headers?: Readonly<Record<string, string>>
  readonly signal?: AbortSignal
  /**
   * Origins that may receive the Authorization header. It is dropped on any
   * redirect to another origin, so a token never reaches an asset host.
   */
  readonly credentialOrigins?: readonly string[]
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
])

let dispatcher: Promise<Dispatcher> | undefined

function getDispatcher(): Promise<Dispatcher> {
  dispatcher ??= createDispatcher()
  return dispatcher
}

/** An Agent, or an EnvHttpProxyAgent when a proxy variable is set (loaded only then). */
async function createDispatcher(): Promise<Dispatcher> {
  const timeout = requestTimeoutMs()
  // headersTimeout bounds a silent server; bodyTimeout bounds a stalled body between chunks.
  const timeouts = {bodyTimeout: timeout, connectTimeout: timeout, headersTimeout: timeout, keepAliveTimeout: 4000}
  onRelease(closeHttp)
  const proxies = proxySettings()
  if (proxies) {
    const {envProxyDispatcher} = await import('./undici-proxy.js')
    return envProxyDispatcher(proxies, timeouts)
  }
  const {Agent} = await loadUndici()
  return new Agent(timeouts)
}

/**
 * Closes pooled connections so the process can exit at once (registered with
 * core/resources). destroy() ends every socket before it returns; waiting for
 * undici to confirm it (an error object per connection, then loop turns) cost
 * every cold `fetch` about 2 ms for nothing.
 */
async function closeHttp(): Promise<void> {
  const current = dispatcher
  dispatcher = undefined
  const agent = await current?.catch(() => undefined)
  agent?.destroy().catch(() => {})
}

/** Maps a transport-level failure to a typed error; transient ones are retryable. */
export function classifyNetworkError(error: unknown, what: string): Error {
  if (error instanceof ArtifactError) return error
  if (error instanceof SlowTransferError) return new TransientError(`${what}: ${error.message}`, undefined, {cause: error})
  const code = (error as {code?: string}).code ?? ''
  const message = (error as Error).message ?? String(error)
  const refused = /Proxy response \((\d+)\) !== 200/.exec(message)
  if (refused) {
    return new OperationalError(`${what}: the proxy refused the tunnel (HTTP ${refused[1]} to CONNECT): check HTTPS_PROXY and NO_PROXY`, {cause: error})
  }
  if (code === 'UND_ERR_ABORTED' || (error as Error).name === 'AbortError') {
    return new OperationalError(`${what}: aborted`, {cause: error})
  }
  if (TRANSIENT_CODES.has(code)) {
    const reason = code.startsWith('UND_ERR_') ? code.slice('UND_ERR_'.length).toLowerCase().replaceAll('_', ' ') : code
    return new TransientError(`${what}: ${reason} (${message})`, undefined, {cause: error})
  }
  return new OperationalError(`${what}: ${message}`, {cause: error})
}

export function responseHeader(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

/** Redirects go to https, or to loopback http (test servers), and never downgrade from https. */
function checkRedirectTarget(from: URL, to: URL, shown: string): void {
  if (to.protocol === 'https:') return
  if (to.protocol === 'http:' && from.protocol === 'http:' && isLoopbackHost(to.hostname)) return
  throw new OperationalError(`${shown}: refusing redirect to ${redactUrl(to.href)} (only https redirects are followed)`)
}

function statusError(status: number, headers: HttpResponse['headers'], shown: string): Error {
  if (status === 404 || status === 410) return new NotFoundError(`${shown}: not found (HTTP ${status})`)
  if (status === 408 || status === 429 || status >= 500) {
    return new TransientError(`${shown}: HTTP ${status}`, parseRetryAfter(responseHeader(headers, 'retry-after')))
  }
  if (status === 401 || status === 403) return new OperationalError(`${shown}: access denied (HTTP ${status}): check credentials`)
  return new OperationalError(`${shown}: unexpected HTTP ${status}`)
}

/**
 * One HTTP exchange with the tool's redirect policy: at most 5 hops, https
 * only, Authorization only to trusted origins. Non-2xx statuses become typed
 * errors (404 → not found, 408/429/5xx → transient). The caller owns the body.
 */
export async function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const {request} = await loadUndici()
  const agent = await getDispatcher()
  const method = options.method ?? 'GET'
  const trusted = new Set(options.credentialOrigins ?? [new URL(url).origin])
  let current = new URL(url)
  const shown = redactUrl(url)
  for (let hop = 0; ; hop++) {
    const headers = Object.fromEntries(
      Object.entries(options.headers ?? {}).filter(([name]) => trusted.has(current.origin) || name.toLowerCase() !== 'authorization'),
    )
    let response: ResponseData
    try {
      response = await request(agent, {headers, method, origin: current.origin, path: `${current.pathname}${current.search}`, signal: options.signal})
    } catch (error) {
      throw classifyNetworkError(error, `${method} ${shown}`)
    }
    const {statusCode: status} = response
    const location = responseHeader(response.headers, 'location')
    if (status >= 300 && status < 400 && location) {
      response.body.resume()
      if (hop >= MAX_REDIRECTS) throw new OperationalError(`${shown}: more than ${MAX_REDIRECTS} redirects`)
      const next = new URL(location, current)
      checkRedirectTarget(current, next, shown)
      current = next
      continue
    }
    if (status < 200 || status >= 300) {
      response.body.resume()
      throw statusError(status, response.headers, `${method} ${shown}`)
    }
    const body = method === 'HEAD' ? response.body : guardSpeed(response.body, (error) => classifyNetworkError(error, `${method} ${shown}`))
    return {body, headers: response.headers, status, url: current.href}
  }
}

export function contentLength(response: HttpResponse): number | undefined {
  const raw = responseHeader(response.headers, 'content-length')
  if (raw === undefined) return undefined
  const value = Number(raw)
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined
}

