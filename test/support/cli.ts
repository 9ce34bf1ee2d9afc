import {spawn} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CLI = path.join(PROJECT_ROOT, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  /** Kill the process after this many ms (the test then fails on the exit code). */
  timeoutMs?: number
}

/**
 * Environment for the CLI under test: quick retries and timeouts, no CI
 * spinner logic surprises, and no proxy or credentials leaking in from the host.
 */
export function testEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    HOME: process.env.HOME,
    PATH: process.env.PATH,
    E2B_ARTIFACTS_RETRY_BASE_MS: '20',
    E2B_ARTIFACTS_RETRY_MAX_MS: '100',
    E2B_ARTIFACTS_TIMEOUT_MS: '2000',
    // The default public locations must never be used by a test: point them at a closed loopback port
    // (the anonymous view of the public bucket, storage.googleapis.com, is reached only through
    // E2B_ARTIFACTS_GCS_ENDPOINT, pointed at an emulator; a test that wants it unsets these).
    E2B_ARTIFACTS_PUBLIC_URL: 'http://127.0.0.1:9/unused',
    E2B_ARTIFACTS_COPY_FROM: 'file:///nonexistent/e2b-artifacts-copy-from-unused',
  }
  const merged = {...env, ...extra}
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined))
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = startCli(args, options)
  return child.done
}

export function startCli(args: string[], options: CliOptions = {}): {pid: number | undefined; kill(signal: NodeJS.Signals): void; done: Promise<CliResult>} {
  const child = spawn(process.execPath, [CLI, ...args], {cwd: options.cwd ?? PROJECT_ROOT, env: testEnv(options.env), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      resolve({code, signal, stderr, stdout})
    })
  })
  return {done, kill: (signal) => child.kill(signal), pid: child.pid}
}
