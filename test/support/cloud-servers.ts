/**
 * Real local cloud servers for integration tests: fake-gcs-server for GCS and
 * versitygw for S3. CI starts them once (.ci/start-servers.sh) and passes
 * their endpoints in E2B_TEST_* variables; otherwise each test process starts
 * its own on free loopback ports and stops them when it exits. A missing
 * server is an error, never a skipped test.
 */
import {randomBytes} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import https from 'node:https'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {READY_TIMEOUT_MS, findBinary, freePort, startProcess, tempDataDir, waitUntilReady} from './processes.js'
import {testCertificate} from './tls.js'

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

/** A bucket name no other test (or earlier run against a shared CI server) uses. */
export function uniqueBucket(label = 't'): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
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
    const binary = findBinary('fake-gcs-server', {install: 'go install github.com/fsouza/fake-gcs-server@v1.55.1', orElse: 'start one and set E2B_TEST_GCS_ENDPOINT'})
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
    const binary = findBinary('versitygw', {install: 'go install github.com/versity/versitygw/cmd/versitygw@v1.7.0', orElse: 'start one and set E2B_TEST_S3_ENDPOINT'})
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

export interface S3TlsServer extends S3Server {
  /** PEM file of the CA that signed the server's certificate, for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string
  /** That CA's PEM text, for clients in this process. */
  readonly ca: string
}

let s3TlsPromise: Promise<S3TlsServer> | undefined

/**
 * A versitygw of this test process's own that serves HTTPS with the loopback
 * test certificate (test/support/tls.ts): for clients that must reach S3
 * over TLS, through a proxy's CONNECT tunnel for one. CI's versitygw is plain http.
 */
export function s3TlsServer(): Promise<S3TlsServer> {
  s3TlsPromise ??= startS3Tls()
  return s3TlsPromise
}

async function startS3Tls(): Promise<S3TlsServer> {
  const binary = findBinary('versitygw', {install: 'go install github.com/versity/versitygw/cmd/versitygw@v1.7.0'})
  const certificate = await testCertificate()
  const port = await freePort()
  const endpoint = `https://127.0.0.1:${port}`
  const accessKey = `test${randomBytes(6).toString('hex')}`
  const secretKey = randomBytes(18).toString('hex')
  const dataDir = tempDataDir('s3-tls')
  const root = path.join(dataDir, 'buckets')
  mkdirSync(root)
  const logFile = path.join(dataDir, 'server.log')
  const child = startProcess(
    binary,
    ['--access', accessKey, '--secret', secretKey, '--port', `127.0.0.1:${port}`, '--cert', certificate.certFile, '--key', certificate.keyFile, '--quiet', 'posix', root],
    logFile,
  )
  // fetch() cannot be given a CA: poll with https and the test CA instead.
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const request = https.get(`${endpoint}/`, {ca: certificate.ca, timeout: 2000}, (response) => {
        response.resume()
        resolve(true)
      })
      request.on('error', () => resolve(false))
    })
    if (up) break
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`versitygw (TLS) at ${endpoint} did not come up; see ${logFile}`)
    await sleep(50)
  }
  const region = 'us-east-1'
  return {
    accessKey,
    ca: certificate.ca,
    caFile: certificate.caFile,
    async createBucket(name: string): Promise<void> {
      const {CreateBucketCommand, S3Client} = await import('@aws-sdk/client-s3')
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
      const client = new S3Client({
        credentials: {accessKeyId: accessKey, secretAccessKey: secretKey},
        endpoint,
        forcePathStyle: true,
        region,
        requestHandler: {httpsAgent: new https.Agent({ca: certificate.ca})},
      })
      try {
        await client.send(new CreateBucketCommand({Bucket: name}))
      } finally {
        client.destroy()
      }
    },
    endpoint,
    env: {
      AWS_ACCESS_KEY_ID: accessKey,
      AWS_CONFIG_FILE: path.join(tmpdir(), 'e2b-artifacts-no-aws-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_SECRET_ACCESS_KEY: secretKey,
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmpdir(), 'e2b-artifacts-no-aws-credentials'),
      NODE_EXTRA_CA_CERTS: certificate.caFile,
    },
    region,
    secretKey,
  }
}
