/**
 * Plumbing shared by the test-server helpers (cloud-servers, proxy, azurite):
 * finding a binary, picking a loopback port, starting a server process whose
 * output goes to a log file, waiting until it answers, and cleaning all of it
 * up when the test process exits. A missing binary is an error with the
 * command that installs it: a test suite without its servers must fail loudly.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {accessSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {homedir, tmpdir} from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

export const READY_TIMEOUT_MS = 20_000

const children: ChildProcess[] = []
const dataDirs: string[] = []
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const child of children) child.kill('SIGTERM')
    for (const dir of dataDirs) rmSync(dir, {force: true, recursive: true})
  })
  // 'exit' does not run on a fatal signal by default; turn the signal into an exit.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => process.exit(code))
  }
}

export interface BinaryHints {
  /** The command that installs it, for the error message. */
  install: string
  /** What else would do, e.g. "start one and set E2B_TEST_GCS_ENDPOINT". */
  orElse?: string
  /** Directories to search after PATH (Go's bin directory is always searched). */
  dirs?: string[]
}

/** An executable on PATH, in `hints.dirs` or in Go's bin directory; otherwise an error saying how to get one. */
export function findBinary(name: string, hints: BinaryHints): string {
  const gopath = process.env.GOPATH?.split(path.delimiter)[0] ?? path.join(homedir(), 'go')
  const candidates = [
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean),
    ...(hints.dirs ?? []),
    path.join(gopath, 'bin'),
    path.join(homedir(), 'go', 'bin'),
  ]
  for (const dir of candidates) {
    const file = path.join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // try the next directory
    }
  }
  throw new Error(`${name} is not on PATH or in ~/go/bin: install it with '${hints.install}'${hints.orElse ? `, or ${hints.orElse}` : ''}`)
}

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (!address || typeof address === 'string') throw new Error('could not pick a free port')
  return address.port
}

/** Starts a server with its output in a log file (no pipes that would keep this process alive). */
export function startProcess(binary: string, args: string[], logFile: string): ChildProcess {
  installExitHook()
  const log = openSync(logFile, 'a')
  try {
    const child = spawn(binary, args, {stdio: ['ignore', log, log]})
    child.unref()
    children.push(child)
    return child
  } finally {
    closeSync(log)
  }
}

/** Polls `url` until any HTTP answer arrives (a 400 or 403 counts: the server is up). */
export async function waitUntilReady(name: string, url: string, child: ChildProcess | undefined, logFile?: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  let lastError = ''
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) break
    try {
      const response = await fetch(url, {signal: AbortSignal.timeout(2000)})
      await response.arrayBuffer()
      return
    } catch (error) {
      lastError = (error as Error).message
    }
    await sleep(50)
  }
  const log = logFile ? readFileSync(logFile, 'utf8').slice(-2000) : ''
  throw new Error(`${name} at ${url} did not come up within ${READY_TIMEOUT_MS} ms (${child?.exitCode !== null && child ? `exited with ${child.exitCode}` : lastError})${log ? `\n${log}` : ''}`)
}

/** A temporary directory removed when the test process exits. */
export function tempDataDir(label: string): string {
  installExitHook()
  const dir = mkdtempSync(path.join(tmpdir(), `e2b-artifacts-${label}-`))
  dataDirs.push(dir)
  return dir
}
