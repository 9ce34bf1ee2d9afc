/**
 * Reading tinyproxy's log as evidence of which requests went through a proxy.
 *
 * tinyproxy 1.11 writes each log line with three unbuffered write(2) calls
 * (prefix, message, newline) under a mutex, and fsyncs after each, so a line
 * is on disk before the proxy contacts the target, but a reader can catch a
 * line half written. Hence: a mark is a byte offset at a line boundary, and
 * only newline-terminated lines are ever returned.
 *
 * A request line looks like
 *   CONNECT   Nov 29 12:48:16.367 [18772]: Request (file descriptor 5): CONNECT 127.0.0.1:18933 HTTP/1.1
 *   CONNECT   Nov 29 12:48:16.359 [18772]: Request (file descriptor 5): GET http://127.0.0.1:18933/a?b=1 HTTP/1.1
 * (the first word is the log level, which tinyproxy calls CONNECT too). A
 * message is cut at 800 bytes, so a very long URL loses its tail and the
 * protocol; `truncated` says so.
 *
 * One client connection carries one logged request: tinyproxy sends the target
 * "Connection: close", relays bytes until the target closes, then closes the
 * client's connection too, without telling the client (it drops the
 * "Connection: close" from the response). Every server these tests use
 * honours that, so a keep-alive client cannot slip a second request past the
 * log; it just finds its pooled connection dead and opens a new one.
 *
 * Never truncate the log while tinyproxy runs: it writes at its own offset
 * (the file is not opened with O_APPEND), leaving a run of NUL bytes.
 */
import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

/** A position in the log; lines after it are what a test caused. */
export interface LogMark {
  readonly offset: number
}

export interface ProxiedRequest {
  /** `CONNECT`, `GET`, `PUT`, ... */
  readonly method: string
  /** As logged: `host:port` for CONNECT, the absolute URL for a forwarded request, `/path` for a transparent one. */
  readonly target: string
  /** Hostname, without IPv6 brackets; undefined for a transparent (origin-form) request. */
  readonly host?: string
  readonly port?: number
  /** Path and query of a forwarded request. */
  readonly path?: string
  /** The line was cut at tinyproxy's message limit; `target` may be incomplete. */
  readonly truncated: boolean
  /** `${method} ${target}`, handy for deepEqual on a list. */
  readonly summary: string
  readonly line: string
}

const REQUEST_LINE = /\]: Request \(file descriptor \d+\): (\S+) (\S+)(?: (HTTP\/\d(?:\.\d)?))?$/
const DEFAULT_PORT: Record<string, number> = {'http:': 80, 'https:': 443}

export function parseRequestLine(line: string): ProxiedRequest | undefined {
  const m = REQUEST_LINE.exec(line)
  if (!m) return undefined
  const method = m[1]!
  const target = m[2]!
  const base = {line, method, summary: `${method} ${target}`, target, truncated: m[3] === undefined}
  if (method === 'CONNECT') {
    const url = tryUrl(`http://${target}`)
    return url ? {...base, host: unbracket(url.hostname), port: Number(url.port || 80)} : base
  }
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? tryUrl(target) : undefined
  if (!url) return base
  return {...base, host: unbracket(url.hostname), path: `${url.pathname}${url.search}`, port: Number(url.port) || DEFAULT_PORT[url.protocol] || 0}
}

/** The requests among `lines`, in log order. */
export function parseRequests(lines: readonly string[]): ProxiedRequest[] {
  return lines.flatMap((line) => parseRequestLine(line) ?? [])
}

export class ProxyLog {
  constructor(readonly path: string) {}

  /** The end of the last complete line now in the log. */
  mark(): LogMark {
    const fd = openSync(this.path, 'r')
    try {
      const size = fstatSync(fd).size
      const window = Buffer.alloc(4096)
      for (let end = size; end > 0; ) {
        const start = Math.max(0, end - window.length)
        const read = readSync(fd, window, 0, end - start, start)
        const newline = window.subarray(0, read).lastIndexOf(0x0a)
        if (newline >= 0) return {offset: start + newline + 1}
        end = start
      }
      return {offset: 0}
    } finally {
      closeSync(fd)
    }
  }

  /** Complete lines written after `mark`, NUL padding dropped. */
  linesSince(mark: LogMark): string[] {
    const fd = openSync(this.path, 'r')
    try {
      const size = fstatSync(fd).size
      if (size < mark.offset) throw new Error(`${this.path} shrank below the mark (${size} < ${mark.offset}): was it truncated?`)
      const data = Buffer.alloc(size - mark.offset)
      const read = readSync(fd, data, 0, data.length, mark.offset)
      const text = data.subarray(0, read).toString('utf8')
      const complete = text.slice(0, text.lastIndexOf('\n') + 1)
      return complete
        .split('\n')
        .map((line) => line.replaceAll('\0', ''))
        .filter((line) => line.length > 0)
    } finally {
      closeSync(fd)
    }
  }

  requestsSince(mark: LogMark): ProxiedRequest[] {
    return parseRequests(this.linesSince(mark))
  }

  /**
   * Polls until `until` accepts the requests logged since `mark`, and returns
   * them. Normally the first look succeeds (the line precedes any byte the
   * client receives); polling covers a request the client gave up on early.
   */
  async waitForRequests(mark: LogMark, until: (requests: ProxiedRequest[]) => boolean, timeoutMs = 5000): Promise<ProxiedRequest[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const requests = this.requestsSince(mark)
      if (until(requests)) return requests
      if (Date.now() >= deadline) {
        throw new Error(`proxy log ${this.path}: condition not met within ${timeoutMs} ms; requests since the mark:\n${requests.map((r) => `  ${r.summary}`).join('\n') || '  (none)'}`)
      }
      await sleep(25)
    }
  }
}

function tryUrl(value: string): URL | undefined {
  try {
    return new URL(value)
  } catch {
    return undefined
  }
}

function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
}
