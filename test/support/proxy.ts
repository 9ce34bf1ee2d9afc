/**
 * Loopback HTTP proxies for tests, both Debian's tinyproxy:
 *
 * - the forward proxy relays plain requests and CONNECT tunnels to any port,
 *   and its log shows exactly which requests went through it;
 * - the refusing proxy answers every request and CONNECT with 403 before
 *   connecting anywhere, so a client pointed at it cannot reach beyond the
 *   machine (Azure's credential probes, for one), and its log shows what was
 *   attempted.
 *
 * CI starts both (.ci/start-servers.sh) and passes E2B_TEST_PROXY_URL and
 * E2B_TEST_PROXY_LOG, E2B_TEST_REFUSING_PROXY_URL and
 * E2B_TEST_REFUSING_PROXY_LOG; otherwise a test process starts its own on a
 * free loopback port and stops it at exit. A missing tinyproxy is an error.
 *
 *   const proxy = await proxyServer()
 *   const mark = proxy.mark()
 *   await runCli([...], {env: {...proxy.env(), ...}})
 *   assert.deepEqual(proxy.requestsSince(mark).map((r) => r.summary), ['CONNECT 127.0.0.1:PORT'])
 */
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {type LogMark, type ProxiedRequest, ProxyLog} from './proxy-log.js'
import {findBinary, freePort, startProcess, tempDataDir, waitUntilReady} from './processes.js'

export type {LogMark, ProxiedRequest} from './proxy-log.js'
export {parseRequestLine, parseRequests} from './proxy-log.js'

export type ProxyKind = 'forward' | 'refusing'

export interface ProxyEnvOptions {
  /** NO_PROXY / no_proxy value; default empty, so a developer's NO_PROXY=localhost cannot bypass the proxy. */
  noProxy?: string
}

export interface LoopbackProxy {
  readonly kind: ProxyKind
  /** http://127.0.0.1:PORT */
  readonly url: string
  readonly logPath: string
  /** HTTP_PROXY, HTTPS_PROXY and NO_PROXY, upper and lower case, pointing at this proxy. */
  env(opts?: ProxyEnvOptions): Record<string, string>
  mark(): LogMark
  linesSince(mark: LogMark): string[]
  requestsSince(mark: LogMark): ProxiedRequest[]
  waitForRequests(mark: LogMark, until: (requests: ProxiedRequest[]) => boolean, timeoutMs?: number): Promise<ProxiedRequest[]>
}

const CONFIG_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tinyproxy')
const ENV_VARS: Record<ProxyKind, {url: string; log: string}> = {
  forward: {log: 'E2B_TEST_PROXY_LOG', url: 'E2B_TEST_PROXY_URL'},
  refusing: {log: 'E2B_TEST_REFUSING_PROXY_LOG', url: 'E2B_TEST_REFUSING_PROXY_URL'},
}

const shared: Partial<Record<ProxyKind, Promise<LoopbackProxy>>> = {}

/** The forward proxy: CI's, or one started for this test process. */
export function proxyServer(): Promise<LoopbackProxy> {
  shared.forward ??= fromEnvOrStart('forward')
  return shared.forward
}

/** The proxy that refuses everything: CI's, or one started for this test process. */
export function refusingProxyServer(): Promise<LoopbackProxy> {
  shared.refusing ??= fromEnvOrStart('refusing')
  return shared.refusing
}

/** A tinyproxy of this test process's own, whatever CI provides: for a test that must not share a log. */
export async function startProxy(kind: ProxyKind = 'forward'): Promise<LoopbackProxy> {
  const binary = findBinary('tinyproxy', {dirs: ['/usr/bin', '/usr/sbin'], install: 'apt-get install tinyproxy-bin', orElse: `start one and set ${ENV_VARS[kind].url} and ${ENV_VARS[kind].log}`})
  const port = await freePort()
  const dir = tempDataDir(`${kind}-proxy`)
  const logPath = path.join(dir, 'access.log')
  const configFile = path.join(dir, 'tinyproxy.conf')
  writeFileSync(configFile, tinyproxyConfig(kind, port, logPath))
  // tinyproxy opens its log file without creating missing directories, and
  // reports configuration errors on stderr before the log is open.
  writeFileSync(logPath, '')
  const stderrLog = path.join(dir, 'tinyproxy.out')
  const child = startProcess(binary, ['-d', '-c', configFile], stderrLog)
  const url = `http://127.0.0.1:${port}`
  // A request without a proxy target gets tinyproxy's 400: enough to know it listens.
  await waitUntilReady(`tinyproxy (${kind})`, url, child, stderrLog)
  return loopbackProxy(kind, url, logPath)
}

/** tinyproxy's configuration for `kind`, from the template .ci/start-servers.sh uses too. */
export function tinyproxyConfig(kind: ProxyKind, port: number, logPath: string): string {
  if (/["\n]/.test(logPath)) throw new Error(`tinyproxy cannot log to ${JSON.stringify(logPath)}`)
  return readFileSync(path.join(CONFIG_DIR, `${kind}.conf`), 'utf8').replaceAll('@PORT@', String(port)).replaceAll('@LOG@', logPath)
}

async function fromEnvOrStart(kind: ProxyKind): Promise<LoopbackProxy> {
  const vars = ENV_VARS[kind]
  const url = process.env[vars.url]?.replace(/\/+$/, '')
  if (!url) return startProxy(kind)
  const logPath = process.env[vars.log]
  if (!logPath) throw new Error(`${vars.url} is set, but ${vars.log} (the proxy's log file, the tests' evidence) is not`)
  const {hostname} = new URL(url)
  if (hostname !== '127.0.0.1' && hostname !== 'localhost' && hostname !== '[::1]') throw new Error(`${vars.url}=${url} is not a loopback proxy`)
  await waitUntilReady(`tinyproxy (${vars.url})`, url, undefined)
  return loopbackProxy(kind, url, logPath)
}

function loopbackProxy(kind: ProxyKind, url: string, logPath: string): LoopbackProxy {
  const log = new ProxyLog(logPath)
  return {
    env: ({noProxy = ''} = {}) => ({
      HTTP_PROXY: url,
      HTTPS_PROXY: url,
      NO_PROXY: noProxy,
      http_proxy: url,
      https_proxy: url,
      no_proxy: noProxy,
    }),
    kind,
    linesSince: (mark) => log.linesSince(mark),
    logPath,
    mark: () => log.mark(),
    requestsSince: (mark) => log.requestsSince(mark),
    url,
    waitForRequests: (mark, until, timeoutMs) => log.waitForRequests(mark, until, timeoutMs),
  }
}
