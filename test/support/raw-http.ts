/**
 * A plain node:http(s) client for tests of the test servers themselves: it
 * reports partial bodies, socket errors and repeated header lines instead of
 * hiding them the way fetch() does, and never decompresses.
 */
import http, {type IncomingHttpHeaders} from 'node:http'
import https from 'node:https'

export interface RawResult {
  status?: number
  headers: IncomingHttpHeaders
  /** Header lines as sent: [name, value, name, value, ...], repeats kept. */
  rawHeaders: string[]
  body: Buffer
  error?: Error
  /** Milliseconds from sending the request to the response headers. */
  headersAfterMs?: number
}

export interface RawOptions {
  method?: string
  headers?: Record<string, string>
  /** CA to trust for an https URL. */
  ca?: string
  /** Give up after this many ms, keeping what arrived (error: 'given up by the test'). */
  giveUpAfterMs?: number
}

export function raw(url: string, opts: RawOptions = {}): Promise<RawResult> {
  return new Promise((resolve) => {
    const result: RawResult = {body: Buffer.alloc(0), headers: {}, rawHeaders: []}
    const chunks: Buffer[] = []
    const started = performance.now()
    let timer: NodeJS.Timeout | undefined
    const finish = (error?: Error): void => {
      if (timer) clearTimeout(timer)
      resolve({...result, body: Buffer.concat(chunks), error})
    }
    const options = {agent: false as const, ca: opts.ca, headers: opts.headers, method: opts.method ?? 'GET'}
    const onResponse = (res: http.IncomingMessage): void => {
      result.status = res.statusCode
      result.headers = res.headers
      result.rawHeaders = res.rawHeaders
      result.headersAfterMs = performance.now() - started
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => finish())
      res.on('error', finish)
      res.on('aborted', () => finish(new Error('aborted')))
    }
    const req = url.startsWith('https:') ? https.request(url, options, onResponse) : http.request(url, options, onResponse)
    req.on('error', finish)
    if (opts.giveUpAfterMs !== undefined) {
      timer = setTimeout(() => {
        finish(new Error('given up by the test'))
        req.destroy()
      }, opts.giveUpAfterMs)
    }
    req.end()
  })
}

/** Every value of header `name` as sent, in order (fetch() and res.headers join repeats). */
export function headerLines(result: RawResult, name: string): string[] {
  const lower = name.toLowerCase()
  const values: string[] = []
  for (let i = 0; i + 1 < result.rawHeaders.length; i += 2) {
    if (result.rawHeaders[i]!.toLowerCase() === lower) values.push(result.rawHeaders[i + 1]!)
  }
  return values
}
