/**
 * Real local cloud servers for integration tests: fake-gcs-server for GCS and
 * versitygw for S3. CI starts them once (.ci/start-servers.sh) and passes
 * their endpoints in E2B_TEST_* variables; otherwise each test process starts
 * its own on free loopback ports and stops them when it exits. A missing
 * server is an error, never a skipped test.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {accessSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {homedir, tmpdir} from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

export interface GcsServer {
  /** JSON API origin, e.g. http://127.0.0.1:4443. */
  readonly endpoint: string
  /** Where objects are served as plain HTTP: `${publicUrl}/{bucket}/{object}`. */
  readonly publicUrl: string
  createBucket(name: string): Promise<void>
  /** What the CLI (or a store in this process) needs to talk to this server. */
  readonly env: Record<string, string>
}

export interface S3Server {
  readonly endpoint: string
  readonly accessKey: string
  readonly secretKey: string
  readonly region: string
  createBucket(name: string): Promise<void>
  readonly env: Record<string, string>
}

const READY_TIMEOUT_MS = 20_000
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

/** A bucket name no other test (or earlier run against a shared CI server) uses. */
export function uniqueBucket(label = 't'): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
}

function findBinary(name: string, install: string, endpointVar: string): string {
  const gopath = process.env.GOPATH?.split(path.delimiter)[0] ?? path.join(homedir(), 'go')
  const candidates = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), path.join(gopath, 'bin'), path.join(homedir(), 'go', 'bin')]
  for (const dir of candidates) {
    const file = path.join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {
      // try the next directory
    }
  }
  throw new Error(`${name} is not on PATH or in ~/go/bin: install it with '${install}', or start one and set ${endpointVar}`)
}

async function freePort(): Promise<number> {
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
function startProcess(binary: string, args: string[], logFile: string): ChildProcess {
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

async function waitUntilReady(name: string, url: string, child: ChildProcess | undefined, logFile?: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  let lastError = ''
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) break
    try {
      const response = await fetch(url, {signal: AbortSignal.timeout(2000)})
      await response.arrayBuffer()
      // Any HTTP answer means the server is up (versitygw answers an anonymous GET with 403).
      return
    } catch (error) {
      lastError = (error as Error).message
    }
    await sleep(50)
  }
  const log = logFile ? readFileSync(logFile, 'utf8').slice(-2000) : ''
  throw new Error(`${name} at ${url} did not come up within ${READY_TIMEOUT_MS} ms (${child?.exitCode !== null && child ? `exited with ${child.exitCode}` : lastError})${log ? `\n${log}` : ''}`)
}

function tempDataDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `e2b-artifacts-${label}-`))
  dataDirs.push(dir)
  return dir
}

let gcsPromise: Promise<GcsServer> | undefined
let s3Promise: Promise<S3Server> | undefined

/** fake-gcs-server: from E2B_TEST_GCS_ENDPOINT, or started here. One per test process. */
export function gcsServer(): Promise<GcsServer> {
  gcsPromise ??= startGcs()
  return gcsPromise
}

async function startGcs(): Promise<GcsServer> {
  let endpoint = process.env.E2B_TEST_GCS_ENDPOINT?.replace(/\/+$/, '')
  let publicUrl = process.env.E2B_TEST_GCS_PUBLIC_URL?.replace(/\/+$/, '') ?? endpoint
  if (endpoint) {
    await waitUntilReady('fake-gcs-server (E2B_TEST_GCS_ENDPOINT)', `${endpoint}/storage/v1/b?project=test`, undefined)
  } else {
    const binary = findBinary('fake-gcs-server', 'go install github.com/fsouza/fake-gcs-server@v1.55.1', 'E2B_TEST_GCS_ENDPOINT')
    const port = await freePort()
    endpoint = `http://127.0.0.1:${port}`
    publicUrl = endpoint
    const logFile = path.join(tempDataDir('gcs'), 'server.log')
    const child = startProcess(
      binary,
      ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-public-host', `127.0.0.1:${port}`, '-external-url', endpoint, '-backend', 'memory', '-log-level', 'warn'],
      logFile,
    )
    await waitUntilReady('fake-gcs-server', `${endpoint}/storage/v1/b?project=test`, child, logFile)
  }
  const api = endpoint
  return {
    async createBucket(name: string): Promise<void> {
      const response = await fetch(`${api}/storage/v1/b?project=test`, {
        body: JSON.stringify({name}),
        headers: {'content-type': 'application/json'},
        method: 'POST',
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`creating GCS bucket ${name}: HTTP ${response.status} ${text}`)
    },
    endpoint: api,
    env: {E2B_ARTIFACTS_GCS_ENDPOINT: api},
    publicUrl: publicUrl ?? api,
  }
}

/** versitygw: from E2B_TEST_S3_ENDPOINT (+ E2B_TEST_S3_ACCESS_KEY / E2B_TEST_S3_SECRET_KEY), or started here. */
export function s3Server(): Promise<S3Server> {
  s3Promise ??= startS3()
  return s3Promise
}

async function startS3(): Promise<S3Server> {
  let endpoint = process.env.E2B_TEST_S3_ENDPOINT?.replace(/\/+$/, '')
  let accessKey = process.env.E2B_TEST_S3_ACCESS_KEY ?? ''
  let secretKey = process.env.E2B_TEST_S3_SECRET_KEY ?? ''
  if (endpoint) {
    if (!accessKey || !secretKey) throw new Error('E2B_TEST_S3_ENDPOINT is set, but E2B_TEST_S3_ACCESS_KEY or E2B_TEST_S3_SECRET_KEY is not')
    await waitUntilReady('versitygw (E2B_TEST_S3_ENDPOINT)', `${endpoint}/`, undefined)
  } else {
    const binary = findBinary('versitygw', 'go install github.com/versity/versitygw/cmd/versitygw@v1.7.0', 'E2B_TEST_S3_ENDPOINT')
    const port = await freePort()
    endpoint = `http://127.0.0.1:${port}`
    accessKey = `test${randomBytes(6).toString('hex')}`
    secretKey = randomBytes(18).toString('hex')
    const dataDir = tempDataDir('s3')
    const root = path.join(dataDir, 'buckets')
    mkdirSync(root)
    const logFile = path.join(dataDir, 'server.log')
    const child = startProcess(binary, ['--access', accessKey, '--secret', secretKey, '--port', `127.0.0.1:${port}`, '--quiet', 'posix', root], logFile)
    await waitUntilReady('versitygw', `${endpoint}/`, child, logFile)
  }
  const region = 'us-east-1'
  const env: Record<string, string> = {
    AWS_ACCESS_KEY_ID: accessKey,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_SECRET_ACCESS_KEY: secretKey,
    // Keep a developer's own AWS setup out of the tests.
    AWS_CONFIG_FILE: path.join(tmpdir(), 'e2b-artifacts-no-aws-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: path.join(tmpdir(), 'e2b-artifacts-no-aws-credentials'),
  }
  const api = endpoint
  return {
    accessKey,
    async createBucket(name: string): Promise<void> {
      const {CreateBucketCommand, S3Client} = await import('@aws-sdk/client-s3')
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
      const client = new S3Client({credentials: {accessKeyId: accessKey, secretAccessKey: secretKey}, endpoint: api, forcePathStyle: true, region})
      try {
        await client.send(new CreateBucketCommand({Bucket: name}))
      } finally {
        client.destroy()
      }
    },
    endpoint: api,
    env,
    region,
    secretKey,
  }
}
