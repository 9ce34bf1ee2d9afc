/**
 * Loopback HTTP server for integration tests and benchmarks. The main listener
 * impersonates the public GCS builds bucket (plain GET/HEAD of object paths)
 * and GitHub's API/web host; a second listener plays GitHub's asset host, so
 * tests can see which headers cross the redirect. Faults are injected per
 * path so retry, resume and verification logic can be exercised for real.
 *
 * With `tls: true` both listeners serve HTTPS with a certificate for
 * 127.0.0.1/localhost signed by a throwaway CA (`caFile`, for
 * NODE_EXTRA_CA_CERTS). Objects put with `gzip: true` are stored and served
 * the way GCS serves `gsutil cp -Z` uploads (see gcsRepresentation).
 *
 * Standalone (benchmarks):
 *   node --import tsx test/support/artifact-server.ts --root DIR [--prefix /bucket] [--delay-ms 50] [--port N]
 * prints `listening http://127.0.0.1:PORT` and serves DIR until SIGTERM.
 */
import {createHash} from 'node:crypto'
import {createReadStream, realpathSync} from 'node:fs'
import {stat} from 'node:fs/promises'
import http, {type IncomingMessage, type ServerResponse} from 'node:http'
import https from 'node:https'
import type {AddressInfo, Socket} from 'node:net'
import path from 'node:path'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {setTimeout as sleep} from 'node:timers/promises'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {gzipSync} from 'node:zlib'

import {GitHubReleases, type ReleaseInfo, type ReleaseSpec, type RouteResult} from './github-routes.js'
import {googHashes} from './goog-hash.js'
import {testCertificate} from './tls.js'

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
  /**
   * Headers at once, the first `afterBytes` (default 0) of the body at full
   * speed, then the rest at `bytesPerSecond` (e.g. 1), to the last byte: for
   * minimum-transfer-speed checks. It ends early only when the client leaves.
   */
  | {kind: 'trickle'; bytesPerSecond: number; afterBytes?: number}
  /** Nothing for `ms` (Infinity: until the client leaves), then the normal response: for header timeouts. */
  | {kind: 'slowHeaders'; ms: number}
// A gzip-encoded object is not a one-shot fault but a property of the stored
// object, as on GCS: put(path, body, {gzip: true}). Faults apply to it too.

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
  /** Extra response headers (x-goog-hash, x-goog-meta-sha256, content-type, ...), passed through; they win over computed ones. */
  headers?: Record<string, string>
  /**
   * Store `body` gzip-compressed with Content-Encoding: gzip, as `gsutil cp -Z`
   * does, with ETag and x-goog-hash (crc32c and md5, two header lines as GCS
   * sends them) of the stored compressed bytes. gsutil -Z also sets
   * `Cache-Control: no-transform`; pass that in `headers` for that variant.
   */
  gzip?: boolean
}

export interface StartOptions {
  /** Main listener port; 0 (default) picks an ephemeral one. */
  port?: number
  /** Record requests in `requests` (default true); long benchmark runs turn it off. */
  logRequests?: boolean
  /** Serve HTTPS on both listeners (default false: plain HTTP). */
  tls?: boolean
}

export interface ArtifactServer {
  /** Main listener, e.g. http://127.0.0.1:PORT. GitHub API base is `${url}/api`. */
  readonly url: string
  /** Asset-host listener (objects.githubusercontent.com stand-in). */
  readonly assetsUrl: string
  /** With `tls`: PEM file of the CA that signed both listeners' certificate, for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string | undefined
  /** With `tls`: that CA certificate's PEM text, for in-process clients (`ca` / `requestTls.ca`). */
  readonly ca: string | undefined
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
  /** An array value is sent as repeated header lines. */
  headers: Record<string, string | string[]>
  content: Content
  rangeable: boolean
  /** Sent without Content-Length (chunked), as GCS sends a decompressed object. */
  chunked?: boolean
  /** For a gzip-stored object: the uncompressed bytes, served when GCS would decompress. */
  identity?: Buffer
}

interface TlsMaterial {
  ca: string
  caFile: string
  cert: string
  key: string
}

const OCTET = 'application/octet-stream'

export async function startArtifactServer(opts: StartOptions = {}): Promise<ArtifactServer> {
  const server = new LoopbackArtifactServer(opts.logRequests ?? true, opts.tls ? await testCertificate() : undefined)
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
  private readonly main: http.Server | https.Server
  private readonly assets: http.Server | https.Server
  private github = new GitHubReleases('', '')
  private delayMs = 0
  private closed?: Promise<void>

  constructor(
    private readonly logRequests: boolean,
    private readonly tls?: TlsMaterial,
  ) {
    const create = (host: HostName): http.Server | https.Server => {
      const handler = (req: IncomingMessage, res: ServerResponse): void => this.dispatch(host, req, res)
      return tls ? https.createServer({cert: tls.cert, key: tls.key}, handler) : http.createServer(handler)
    }
    this.main = create('main')
    this.assets = create('assets')
  }

  get caFile(): string | undefined {
    return this.tls?.caFile
  }

  get ca(): string | undefined {
    return this.tls?.ca
  }

  async listen(port: number): Promise<void> {
    this.url = await this.bind(this.main, port)
    this.assetsUrl = await this.bind(this.assets, 0)
    this.github = new GitHubReleases(this.url, this.assetsUrl)
  }

  put(urlPath: string, body: Buffer | string, opts: PutOptions = {}): void {
    const identity = typeof body === 'string' ? Buffer.from(body) : body
    const data = opts.gzip ? gzipSync(identity) : identity
    const headers: Record<string, string | string[]> = {
      'content-type': OCTET,
      // GCS uses the quoted MD5 as ETag for non-composite objects.
      etag: `"${createHash('md5').update(data).digest('hex')}"`,
      'last-modified': new Date().toUTCString(),
    }
    if (opts.gzip) {
      headers['content-encoding'] = 'gzip'
      headers['x-goog-stored-content-encoding'] = 'gzip'
      headers['x-goog-stored-content-length'] = String(data.length)
      headers['x-goog-hash'] = googHashes(data)
    }
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v
    const entity: Entity = {status: 200, headers, content: {kind: 'buffer', data}, rangeable: true}
    this.objects.set(normalizePath(urlPath), opts.gzip ? {...entity, identity} : entity)
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
    for (const f of faults) {
      // Checked here: once headers are out, a bad fault could only show up as a mysterious dead connection.
      if (f.kind === 'trickle' && !(f.bytesPerSecond > 0)) throw new Error(`trickle: bytesPerSecond must be positive, not ${f.bytesPerSecond}`)
    }
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

  private bind(server: http.Server | https.Server, port: number): Promise<string> {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      // Loopback only: tests must never expose anything beyond this machine.
      server.listen(port, '127.0.0.1', () => {
        const {port: bound} = server.address() as AddressInfo
        resolve(`${this.tls ? 'https' : 'http'}://127.0.0.1:${bound}`)
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

    // Ends waits (slowHeaders, trickle) when the server closes or the client leaves.
    const gone = new AbortController()
    res.once('close', () => gone.abort())
    const signal = AbortSignal.any([this.closing.signal, gone.signal])

    const fault = this.takeFault(key, method)
    if (fault?.kind === 'slowHeaders' && !(await pause(fault.ms, signal))) return
    if (fault?.kind === 'status') {
      const body = Buffer.from(`${fault.status} ${http.STATUS_CODES[fault.status] ?? ''} (injected fault)\n`)
      return send(req, res, bufferEntity(fault.status, {'content-type': 'text/plain', ...fault.headers}, body), signal)
    }
    if (fault?.kind === 'redirect') {
      return send(req, res, bufferEntity(fault.status ?? 302, {location: fault.location}, Buffer.alloc(0)), signal)
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return send(req, res, bufferEntity(405, {allow: 'GET, HEAD', 'content-type': 'text/plain'}, Buffer.from('Method Not Allowed\n')), signal)
    }
    const entity = host === 'assets' ? fromRoute(this.github.handleAssets(pathname)) : await this.resolveMain(pathname, key, req)
    return send(req, res, gcsRepresentation(req, entity), signal, fault)
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

/**
 * What GCS serves for an object stored gzip-compressed with
 * Content-Encoding: gzip (what `gsutil cp -Z` uploads). Sources: GCS's
 * "Transcoding of gzip-compressed files" page
 * (cloud.google.com/storage/docs/transcoding), the XML API's GET object page
 * ("in certain circumstances the range header is ignored"), Google's own
 * emulator (googleapis/storage-testbench, rest_media), fake-gcs-server PR #851,
 * and gsutil issues #363 and #480 (responses captured from GCS):
 *
 * - Served as stored when the request's Accept-Encoding lists gzip, or when
 *   the object's Cache-Control has no-transform (gsutil -Z has set that since
 *   4.18): Content-Encoding: gzip, Content-Length and Range over the
 *   compressed bytes.
 * - Otherwise GCS decompresses ("decompressive transcoding"): the body is the
 *   original bytes, with no Content-Encoding and no Content-Length (chunked),
 *   a Range header is ignored (200, whole body), and the response says
 *   `x-guploader-response-body-transformations: gunzipped` and
 *   `Warning: 214 UploadServer gunzipped`.
 * - Either way x-goog-hash, ETag and x-goog-stored-content-length describe the
 *   stored gzip bytes, and x-goog-stored-content-encoding is gzip. So a client
 *   that gets the decompressed body cannot check it against x-goog-hash, which
 *   is why Google's clients ask for gzip and decompress locally.
 *
 * Note that fetch() (undici) sends `Accept-Encoding: gzip, deflate` and
 * decompresses silently, so it sees the original bytes with x-goog-hash of the
 * compressed ones; undici.request() sends no Accept-Encoding and gets the
 * decompressed, chunked variant.
 */
function gcsRepresentation(req: IncomingMessage, entity: Entity): Entity {
  if (!entity.identity) return entity
  const cacheControl = String(entity.headers['cache-control'] ?? '')
  if (acceptsGzip(req.headers['accept-encoding']) || /(^|[\s,])no-transform($|[\s,])/i.test(cacheControl)) return entity
  const headers = {...entity.headers}
  delete headers['content-encoding']
  headers['x-guploader-response-body-transformations'] = 'gunzipped'
  headers.warning = '214 UploadServer gunzipped'
  return {status: entity.status, headers, content: {kind: 'buffer', data: entity.identity}, rangeable: false, chunked: true}
}

/** Whether an Accept-Encoding header lists gzip (x-gzip too) with a nonzero q. */
function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';')
    if (coding?.trim() !== 'gzip' && coding?.trim() !== 'x-gzip') return false
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined)
    return q === undefined || Number(q) > 0
  })
}

/** Waits `ms` (Infinity: until `signal`); false when `signal` ended the wait. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false
  try {
    if (Number.isFinite(ms)) await sleep(ms, undefined, {signal})
    else await new Promise((_resolve, reject) => signal.addEventListener('abort', reject, {once: true}))
    return true
  } catch {
    return false
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

async function send(req: IncomingMessage, res: ServerResponse, entity: Entity, signal: AbortSignal, fault?: Fault): Promise<void> {
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
  if (!entity.chunked) headers['content-length'] = String(length)
  // With keep-alive the client would wait forever for the missing bytes; closing makes it a premature EOF.
  if (fault?.kind === 'truncate') headers.connection = 'close'
  res.writeHead(status, headers)
  if (req.method === 'HEAD') return void res.end()

  switch (fault?.kind) {
    case 'truncate': {
      if (!(await writeSpan(res, entity.content, start, half))) return
      // A chunked body ends only with its last-chunk marker, which res.end() would send: close without it.
      if (entity.chunked) res.socket?.end()
      else res.end()
      return
    }
    case 'reset': {
      res.flushHeaders()
      if (!(await writeSpan(res, entity.content, start, half))) return
      // Let the bytes reach the client first, so it sees a response that dies mid-body.
      while (res.socket && !res.socket.destroyed && res.socket.writableLength > 0) await sleep(5)
      await sleep(25)
      tcpSocket(res.socket)?.resetAndDestroy()
      return
    }
    case 'trickle': {
      res.flushHeaders()
      const burstEnd = Math.min(end, start + (fault.afterBytes ?? 0))
      if (!(await writeSpan(res, entity.content, start, burstEnd))) return
      if (await trickle(res, entity.content, burstEnd, end, fault.bytesPerSecond, signal)) res.end()
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

/** Writes bytes [from, to) at `rate` bytes per second. false when the client went away or the server closed. */
async function trickle(res: ServerResponse, content: Content, from: number, to: number, rate: number, signal: AbortSignal): Promise<boolean> {
  // At most ten writes a second and at least one byte each, so the rate holds at 1 B/s and at 1 MB/s alike.
  const step = Math.max(1, Math.floor(rate / 10))
  const started = performance.now()
  for (let at = from; at < to; ) {
    const next = Math.min(to, at + step)
    if (!(await writeSpan(res, content, at, next))) return false
    at = next
    // Scheduled from the start rather than per step, so timer lateness does not add up.
    const wait = started + ((at - from) / rate) * 1000 - performance.now()
    if (at < to && wait > 0 && !(await pause(wait, signal))) return false
  }
  return !res.destroyed
}

/** The TCP socket under a response: resetAndDestroy() exists only there, not on a TLS socket. */
function tcpSocket(socket: Socket | null): Socket | undefined {
  if (!socket) return undefined
  const parent = (socket as Socket & {_parent?: Socket})._parent
  return parent ?? socket
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
