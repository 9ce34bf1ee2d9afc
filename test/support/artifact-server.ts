/**
 * Loopback HTTP server for integration tests and benchmarks. The main listener
 * impersonates the public GCS builds bucket (plain GET/HEAD of object paths)
 * and GitHub's API/web host; a second listener plays GitHub's asset host, so
 * tests can see which headers cross the redirect. Faults are injected per
 * path so retry, resume and verification logic can be exercised for real.
 *
 * Standalone (benchmarks):
 *   node --import tsx test/support/artifact-server.ts --root DIR [--prefix /bucket] [--delay-ms 50] [--port N]
 * prints `listening http://127.0.0.1:PORT` and serves DIR until SIGTERM.
 */
import {createHash} from 'node:crypto'
import {createReadStream, realpathSync} from 'node:fs'
import {stat} from 'node:fs/promises'
import http, {type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import path from 'node:path'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {GitHubReleases, type ReleaseInfo, type ReleaseSpec, type RouteResult} from './github-routes.js'

export type {ReleaseAssetSpec, ReleaseInfo, ReleaseSpec} from './github-routes.js'

/**
 * One injected misbehaviour, consumed by one request. Faults apply to GET. For
 * HEAD only a queued 'status' fault is applied (and consumed); any other kind
 * at the head of the queue is ignored and left for the next GET, because a
 * HEAD has no body to break and a preflight HEAD must not eat the GET's fault.
 */
export type Fault =
  | {kind: 'status'; status: number; headers?: Record<string, string>}
  /** Headers and half the body, then a TCP reset. */
  | {kind: 'reset'}
  /** Full Content-Length, half the body, then a clean FIN: a premature close. */
  | {kind: 'truncate'}
  /** Headers and `afterBytes` (default half) bytes, then silence until someone disconnects. */
  | {kind: 'stall'; afterBytes?: number}
  /** Correct length, middle byte XOR 0xff: only a checksum notices. */
  | {kind: 'flip'}
  | {kind: 'redirect'; location: string; status?: number}

export type HostName = 'main' | 'assets'

export interface LoggedRequest {
  method: string
  /** Decoded pathname without query; the same form put(), fault() and assetPath() use. */
  path: string
  /** The raw request target, query included. */
  url: string
  headers: Record<string, string | string[] | undefined>
  host: HostName
}

export interface PutOptions {
  /** Extra response headers (x-goog-hash, x-goog-meta-sha256, content-type, ...), passed through. */
  headers?: Record<string, string>
}

export interface StartOptions {
  /** Main listener port; 0 (default) picks an ephemeral one. */
  port?: number
  /** Record requests in `requests` (default true); long benchmark runs turn it off. */
  logRequests?: boolean
}

export interface ArtifactServer {
  /** Main listener, e.g. http://127.0.0.1:PORT. GitHub API base is `${url}/api`. */
  readonly url: string
  /** Asset-host listener (objects.githubusercontent.com stand-in). */
  readonly assetsUrl: string
  readonly requests: LoggedRequest[]
  put(urlPath: string, body: Buffer | string, opts?: PutOptions): void
  remove(urlPath: string): boolean
  /** Drops objects, directory mounts, releases and queued faults; keeps the log and delay. */
  clear(): void
  /** Serves files under `dir` at `urlPrefix/...`, streamed from disk; put() objects take precedence. */
  serveDirectory(urlPrefix: string, dir: string): void
  /** Appends faults for successive requests to `urlPath` (either listener). */
  fault(urlPath: string, faults: Fault[]): void
  /** Number of faults still queued for `urlPath`. */
  pendingFaults(urlPath: string): number
  /** Fixed latency before every response on both listeners; 0 removes it. */
  delay(ms: number): void
  resetLog(): void
  addRelease(spec: ReleaseSpec): ReleaseInfo
  /** Asset-host path (no query) of a release asset, for fault(). */
  assetPath(owner: string, repo: string, tag: string, name: string): string
  /** Closes both listeners and destroys open sockets, stalled responses included. */
  close(): Promise<void>
}

type Content = {kind: 'buffer'; data: Buffer} | {kind: 'file'; path: string; size: number}

interface Entity {
  status: number
  headers: Record<string, string>
  content: Content
  rangeable: boolean
}

const OCTET = 'application/octet-stream'

export async function startArtifactServer(opts: StartOptions = {}): Promise<ArtifactServer> {
  const server = new LoopbackArtifactServer(opts.logRequests ?? true)
  await server.listen(opts.port ?? 0)
  return server
}

class LoopbackArtifactServer implements ArtifactServer {
  readonly requests: LoggedRequest[] = []
  url = ''
  assetsUrl = ''
  private readonly objects = new Map<string, Entity>()
  private readonly mounts: Array<{prefix: string; dir: string}> = []
  private readonly faults = new Map<string, Fault[]>()
  private readonly sockets = new Set<Socket>()
  private readonly closing = new AbortController()
  private readonly main = http.createServer((req, res) => this.dispatch('main', req, res))
  private readonly assets = http.createServer((req, res) => this.dispatch('assets', req, res))
  private github = new GitHubReleases('', '')
  private delayMs = 0
  private closed?: Promise<void>

  constructor(private readonly logRequests: boolean) {}

  async listen(port: number): Promise<void> {
    this.url = await this.bind(this.main, port)
    this.assetsUrl = await this.bind(this.assets, 0)
    this.github = new GitHubReleases(this.url, this.assetsUrl)
  }

  put(urlPath: string, body: Buffer | string, opts: PutOptions = {}): void {
    const data = typeof body === 'string' ? Buffer.from(body) : body
    const headers: Record<string, string> = {
      'content-type': OCTET,
      // GCS uses the quoted MD5 as ETag for non-composite objects.
      etag: `"${createHash('md5').update(data).digest('hex')}"`,
      'last-modified': new Date().toUTCString(),
    }
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v
    this.objects.set(normalizePath(urlPath), {status: 200, headers, content: {kind: 'buffer', data}, rangeable: true})
  }

  remove(urlPath: string): boolean {
    return this.objects.delete(normalizePath(urlPath))
  }

  clear(): void {
    this.objects.clear()
    this.mounts.length = 0
    this.faults.clear()
    this.github.clear()
  }

  serveDirectory(urlPrefix: string, dir: string): void {
    const prefix = normalizePath(urlPrefix).replace(/\/+$/, '')
    this.mounts.push({prefix, dir: path.resolve(dir)})
    // Longest prefix first, so nested mounts shadow their parents.
    this.mounts.sort((a, b) => b.prefix.length - a.prefix.length)
  }

  fault(urlPath: string, faults: Fault[]): void {
    const key = normalizePath(urlPath)
    this.faults.set(key, [...(this.faults.get(key) ?? []), ...faults])
  }

  pendingFaults(urlPath: string): number {
    return this.faults.get(normalizePath(urlPath))?.length ?? 0
  }

  delay(ms: number): void {
    this.delayMs = Math.max(0, ms)
  }

  resetLog(): void {
    // In place, so a reference a test already holds stays live.
    this.requests.length = 0
  }

  addRelease(spec: ReleaseSpec): ReleaseInfo {
    return this.github.add(spec)
  }

  assetPath(owner: string, repo: string, tag: string, name: string): string {
    return this.github.assetPath(owner, repo, tag, name)
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing.abort()
      const done = [this.main, this.assets].map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
      for (const socket of this.sockets) socket.destroy()
      await Promise.all(done)
    })()
    return this.closed
  }

  private bind(server: http.Server, port: number): Promise<string> {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      // Loopback only: tests must never expose anything beyond this machine.
      server.listen(port, '127.0.0.1', () => {
        const {port: bound} = server.address() as AddressInfo
        resolve(`http://127.0.0.1:${bound}`)
      })
    })
  }

  private dispatch(host: HostName, req: IncomingMessage, res: ServerResponse): void {
    this.handle(host, req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy()
      else res.writeHead(500, {'content-type': 'text/plain'}).end(`artifact-server: ${String(error)}\n`)
    })
  }

  private async handle(host: HostName, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET'
    const raw = req.url ?? '/'
    const pathname = raw.split('?', 1)[0] ?? '/'
    const key = normalizePath(pathname)
    if (this.logRequests) this.requests.push({method, path: key, url: raw, headers: {...req.headers}, host})

    if (this.delayMs > 0) {
      try {
        await sleep(this.delayMs, undefined, {signal: this.closing.signal})
      } catch {
        return // server closing
      }
    }
    if (res.destroyed) return

    const fault = this.takeFault(key, method)
    if (fault?.kind === 'status') {
      const body = Buffer.from(`${fault.status} ${http.STATUS_CODES[fault.status] ?? ''} (injected fault)\n`)
      return send(req, res, bufferEntity(fault.status, {'content-type': 'text/plain', ...fault.headers}, body))
    }
    if (fault?.kind === 'redirect') {
      return send(req, res, bufferEntity(fault.status ?? 302, {location: fault.location}, Buffer.alloc(0)))
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return send(req, res, bufferEntity(405, {allow: 'GET, HEAD', 'content-type': 'text/plain'}, Buffer.from('Method Not Allowed\n')))
    }
    const entity = host === 'assets' ? fromRoute(this.github.handleAssets(pathname)) : await this.resolveMain(pathname, key, req)
    return send(req, res, entity, fault)
  }

  private takeFault(key: string, method: string): Fault | undefined {
    const queue = this.faults.get(key)
    const next = queue?.[0]
    if (!queue || !next) return undefined
    if (method !== 'GET' && !(method === 'HEAD' && next.kind === 'status')) return undefined
    queue.shift()
    if (queue.length === 0) this.faults.delete(key)
    return next
  }

  private async resolveMain(pathname: string, key: string, req: IncomingMessage): Promise<Entity> {
    const object = this.objects.get(key)
    if (object) return object
    const route = this.github.handleMain(pathname, req.headers.accept)
    if (route) return fromRoute(route)
    for (const {prefix, dir} of this.mounts) {
      if (!key.startsWith(`${prefix}/`)) continue
      const file = path.resolve(dir, key.slice(prefix.length + 1))
      if (!file.startsWith(dir + path.sep)) continue // traversal attempt: not ours to serve
      const info = await stat(file).catch(() => undefined)
      if (!info?.isFile()) continue
      return {
        status: 200,
        headers: {
          'content-type': OCTET,
          etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`,
          'last-modified': info.mtime.toUTCString(),
        },
        content: {kind: 'file', path: file, size: info.size},
        rangeable: true,
      }
    }
    // GCS's XML error body, so clients that log it show something recognisable.
    const body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>'
    return bufferEntity(404, {'content-type': 'application/xml; charset=UTF-8'}, Buffer.from(body))
  }
}

function bufferEntity(status: number, headers: Record<string, string>, data: Buffer): Entity {
  return {status, headers, content: {kind: 'buffer', data}, rangeable: false}
}

function fromRoute(route: RouteResult): Entity {
  return {...bufferEntity(route.status, route.headers, route.body), rangeable: route.rangeable ?? false}
}

/** Decodes percent-escapes so `/a%20b` and `/a b` name the same object or fault queue. */
function normalizePath(p: string): string {
  const withSlash = p.startsWith('/') ? p : `/${p}`
  try {
    return decodeURIComponent(withSlash)
  } catch {
    return withSlash
  }
}

function contentSize(content: Content): number {
  return content.kind === 'buffer' ? content.data.length : content.size
}

/** Single `bytes=` range only; anything else is ignored and the whole body served, as RFC 9110 allows. */
function parseRange(header: string | undefined, size: number): {start: number; end: number} | 'unsatisfiable' | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  if (m[1] === '') {
    const suffix = Number(m[2])
    return suffix === 0 ? 'unsatisfiable' : {start: Math.max(0, size - suffix), end: size}
  }
  const start = Number(m[1])
  const last = m[2] === '' ? Infinity : Number(m[2])
  if (last < start) return undefined // syntactically invalid: ignore the header
  if (start >= size) return 'unsatisfiable'
  return {start, end: Math.min(size, last + 1)}
}

async function send(req: IncomingMessage, res: ServerResponse, entity: Entity, fault?: Fault): Promise<void> {
  const size = contentSize(entity.content)
  const headers = {...entity.headers}
  let status = entity.status
  let start = 0
  let end = size
  if (entity.rangeable && status === 200) {
    headers['accept-ranges'] = 'bytes'
    const range = parseRange(req.headers.range, size)
    if (range === 'unsatisfiable') {
      return void res.writeHead(416, {'content-range': `bytes */${size}`, 'content-length': '0'}).end()
    }
    if (range) {
      status = 206
      start = range.start
      end = range.end
      headers['content-range'] = `bytes ${start}-${end - 1}/${size}`
    }
  }
  const length = end - start
  const half = start + Math.floor(length / 2)
  headers['content-length'] = String(length)
  // With keep-alive the client would wait forever for the missing bytes; closing makes it a premature EOF.
  if (fault?.kind === 'truncate') headers.connection = 'close'
  res.writeHead(status, headers)
  if (req.method === 'HEAD') return void res.end()

  switch (fault?.kind) {
    case 'truncate': {
      if (await writeSpan(res, entity.content, start, half)) res.end()
      return
    }
    case 'reset': {
      res.flushHeaders()
      if (!(await writeSpan(res, entity.content, start, half))) return
      // Let the bytes reach the client first, so it sees a response that dies mid-body.
      while (res.socket && !res.socket.destroyed && res.socket.writableLength > 0) await sleep(5)
      await sleep(25)
      res.socket?.resetAndDestroy()
      return
    }
    case 'stall': {
      res.flushHeaders()
      await writeSpan(res, entity.content, start, Math.min(end, start + (fault.afterBytes ?? Math.floor(length / 2))))
      return // never end: close() or the client's disconnect destroys the socket
    }
    default: {
      const flipAt = fault?.kind === 'flip' && length > 0 ? half : undefined
      if (await writeSpan(res, entity.content, start, end, flipAt)) res.end()
    }
  }
}

/** Writes bytes [from, to) of the content, streaming files. false when the client went away. */
async function writeSpan(res: ServerResponse, content: Content, from: number, to: number, flipAt?: number): Promise<boolean> {
  if (to <= from) return !res.destroyed
  try {
    if (content.kind === 'buffer') {
      let chunk = content.data.subarray(from, to)
      if (flipAt !== undefined) {
        chunk = Buffer.from(chunk) // never corrupt the stored object
        chunk[flipAt - from] = (chunk[flipAt - from] ?? 0) ^ 0xff
      }
      await new Promise<void>((resolve, reject) => res.write(chunk, (err) => (err ? reject(err) : resolve())))
    } else {
      const source = createReadStream(content.path, {start: from, end: to - 1})
      if (flipAt === undefined) await pipeline(source, res, {end: false})
      else await pipeline(source, flipByte(flipAt - from), res, {end: false})
    }
    return !res.destroyed
  } catch {
    res.destroy()
    return false
  }
}

/** Streams through unchanged except the byte at `offset`, which is XORed with 0xff. */
function flipByte(offset: number): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const i = offset - seen
      seen += chunk.length
      if (i < 0 || i >= chunk.length) return callback(null, chunk)
      const copy = Buffer.from(chunk)
      copy[i] = (copy[i] ?? 0) ^ 0xff
      callback(null, copy)
    },
  })
}

async function runStandalone(argv: string[]): Promise<void> {
  const {values} = parseArgs({
    args: argv,
    options: {
      root: {type: 'string'},
      prefix: {type: 'string', default: '/'},
      'delay-ms': {type: 'string', default: '0'},
      port: {type: 'string', default: '0'},
    },
  })
  if (!values.root) {
    process.stderr.write('usage: artifact-server.ts --root DIR [--prefix /bucket] [--delay-ms N] [--port N]\n')
    process.exit(2)
  }
  // No request log: a long benchmark would otherwise grow it without bound.
  const server = await startArtifactServer({port: Number(values.port), logRequests: false})
  server.serveDirectory(values.prefix, values.root)
  server.delay(Number(values['delay-ms']))
  process.stdout.write(`listening ${server.url}\n`)
  const stop = (): void => void server.close().then(() => process.exit(0))
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

function isEntryPoint(): boolean {
  const entry = process.argv[1]
  if (!entry) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntryPoint()) await runStandalone(process.argv.slice(2))
