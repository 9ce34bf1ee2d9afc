/**
 * az:// locations through the real CLI, against Azurite: `verify --at` and
 * `--against`, a missing container, secrets in error output, and what happens
 * with no Azure credentials at all. Every probe DefaultAzureCredential makes
 * stays on loopback: its managed-identity endpoint is a closed or silent
 * loopback port, and everything else meets a proxy that refuses it all.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdir, readdir, writeFile} from 'node:fs/promises'
import {type Server, type Socket, createServer} from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {parseLocation} from '../../src/core/location.js'
import {formatSidecar} from '../../src/integrity/sidecar.js'
import {openStore} from '../../src/stores/open-store.js'
import type {Store} from '../../src/stores/store.js'
import {type AzuriteServer, azuriteServer} from '../support/azurite.js'
import {type CliResult, runCli} from '../support/cli.js'
import {uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {freePort} from '../support/processes.js'
import {type LoopbackProxy, refusingProxyServer} from '../support/proxy.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')

let azurite: AzuriteServer
let amd64: Buffer
let arm64: Buffer
const opened: Store[] = []

before(async () => {
  azurite = await azuriteServer()
  Object.assign(process.env, azurite.env)
  amd64 = await busyboxBytes('amd64')
  arm64 = await busyboxBytes('arm64')
})

after(async () => {
  await Promise.allSettled(opened.map((store) => store.close?.()))
  await removeTempDirs()
})

/** A fresh container holding busybox for both arches, with sidecars, at `root`. */
async function seededContainer(label: string, root = '', suffix = '-fc-busybox'): Promise<{container: string; store: Store; url: string}> {
  const container = `${uniqueBucket(label)}${suffix}`
  await azurite.createContainer(container)
  const url = `az://${azurite.account}/${container}`
  const store = await openStore(parseLocation(url))
  opened.push(store)
  for (const [arch, body] of [['amd64', amd64], ['arm64', arm64]] as const) {
    const key = `${root}${V}/${arch}/busybox`
    const sidecar = Buffer.from(formatSidecar(sha(body), 'busybox'))
    await store.write(key, body, {precondition: 'absent', sha256: sha(body), size: body.length})
    await store.write(`${key}.sha256`, sidecar, {contentType: 'text/plain', precondition: 'absent', sha256: sha(sidecar), size: sidecar.length})
  }
  return {container, store, url}
}

function errorLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line !== '')
}

describe('verify with az://', () => {
  it('--at is clean on a container the store wrote, with and without --deep, and finds a planted mismatch (exit 3)', async () => {
    const {store, url} = await seededContainer('verify')
    for (const depth of [[], ['--deep']]) {
      const clean = await runCli(['verify', '--at', url, '--json', ...depth], {env: azurite.env})
      assert.equal(clean.code, 0, clean.stderr)
      const findings = (JSON.parse(clean.stdout) as {findings: Array<{kind: string; arch: string}>}).findings
      assert.deepEqual(findings.map((f) => [f.arch, f.kind]), [['amd64', 'ok'], ['arm64', 'ok']])
    }
    const wrong = Buffer.from(formatSidecar(sha('tampered'), 'busybox'))
    await store.write(`${V}/arm64/busybox.sha256`, wrong, {precondition: 'any', sha256: sha(wrong), size: wrong.length})
    const bad = await runCli(['verify', '--at', url], {env: azurite.env})
    assert.equal(bad.code, 3, bad.stderr)
    assert.match(bad.stderr, new RegExp(`${url}/${V}/arm64/busybox has sha256 metadata ${sha(arm64)}, but its sidecar says ${sha('tampered')}`))
  })

  it('--against compares an az:// env container with an az:// public mirror, and reports a planted mismatch', async () => {
    const env = await seededContainer('against')
    const mirror = await seededContainer('mirror', 'busybox/', '-public')
    const args = ['verify', '--against', env.url, '--against', mirror.url, '--version', V, '--json']
    const clean = await runCli(args, {env: azurite.env})
    assert.equal(clean.code, 0, clean.stderr)
    assert.deepEqual((JSON.parse(clean.stdout) as {findings: Array<{arch: string; kind: string}>}).findings.map((f) => [f.arch, f.kind]), [['amd64', 'ok'], ['arm64', 'ok']])
    const wrong = Buffer.from(formatSidecar(sha('tampered'), 'busybox'))
    await mirror.store.write(`busybox/${V}/arm64/busybox.sha256`, wrong, {precondition: 'any', sha256: sha(wrong), size: wrong.length})
    const bad = await runCli(args, {env: azurite.env})
    assert.equal(bad.code, 3, bad.stderr)
    assert.deepEqual((JSON.parse(bad.stdout) as {findings: Array<{arch: string; kind: string}>}).findings.map((f) => [f.arch, f.kind]), [['amd64', 'ok'], ['arm64', 'disagree']])
  })
})

describe('a missing Azure container', () => {
  it('is exit 4 for fetch and verify, naming the container, and nothing is created', async () => {
    const missing = `${uniqueBucket('gone')}-fc-busybox`
    const dir = await tempDir('azure-missing')
    const fetch = await runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', `az://${azurite.account}/${missing}`, '--out', path.join(dir, 'busybox')], {
      cwd: dir,
      env: azurite.env,
    })
    assert.equal(fetch.code, 4, fetch.stderr)
    assert.match(fetch.stderr, new RegExp(`^e2b-artifacts: error: .*az://${azurite.account}/${missing}/`))
    assert.deepEqual(await readdir(dir), [])
    const verify = await runCli(['verify', '--at', `az://${azurite.account}/${missing}`], {env: azurite.env})
    assert.equal(verify.code, 4, verify.stderr)
    assert.match(verify.stderr, new RegExp(`container '${missing}' does not exist in storage account '${azurite.account}' \\(e2b-artifacts never creates containers`))
    const {BlobServiceClient} = await import('@azure/storage-blob')
    assert.equal(await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(missing).exists(), false)
  })
})

describe('Azure secrets in output', () => {
  it('never prints a SAS signature or an account key, even with --verbose and DEBUG', async () => {
    const {url} = await seededContainer('secret')
    const signature = 'SENTINELsignatureDoNotPrint0123456789%3D'
    const sas = `sv=2021-08-06&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&st=2020-01-01T00:00:00Z&spr=http&sig=${signature}`
    const withSas = `BlobEndpoint=${azurite.blobEndpoint};SharedAccessSignature=${sas}`
    const badKey = azurite.connectionString.replace(/AccountKey=[^;]+/, 'AccountKey=U0VOVElORUxrZXlEb05vdFByaW50MDEyMzQ1Njc4OQ==')
    for (const connectionString of [withSas, badKey]) {
      const result = await runCli(['verify', '--at', url, '--verbose'], {env: {AZURE_STORAGE_CONNECTION_STRING: connectionString, DEBUG: '1'}})
      assert.equal(result.code, 1, result.stderr)
      assert.match(result.stderr, /access denied \((AuthorizationFailure|AuthenticationFailed)\): check AZURE_STORAGE_CONNECTION_STRING/)
      for (const secret of [signature, 'SENTINELsignature', 'U0VOVElORUxrZXlEb05vdFByaW50MDEyMzQ1Njc4OQ==', 'sig=']) {
        assert.ok(!result.stderr.includes(secret) && !result.stdout.includes(secret), `${secret} printed:\n${result.stderr}`)
      }
    }
  })

  it('refuses a connection string for another account, naming both and no secret', async () => {
    const result = await runCli(['verify', '--at', 'az://someotheraccount/fc-busybox'], {env: azurite.env})
    assert.equal(result.code, 2, result.stderr)
    assert.deepEqual(errorLines(result), [
      "e2b-artifacts: error: az://someotheraccount/fc-busybox: AZURE_STORAGE_CONNECTION_STRING is for storage account 'devstoreaccount1', not 'someotheraccount': name that account in the location, or unset AZURE_STORAGE_CONNECTION_STRING to use DefaultAzureCredential",
    ])
  })
})

describe('no Azure credentials at all', () => {
  const ACCOUNT = 'e2bnocredentials'
  const expected = `e2b-artifacts: error: az://${ACCOUNT}: no Azure credentials for storage account '${ACCOUNT}': set AZURE_STORAGE_CONNECTION_STRING, or sign in with 'az login' (or run with a managed or workload identity)`
  let refusing: LoopbackProxy
  let home: string

  before(async () => {
    refusing = await refusingProxyServer()
    // No ~/.azure (az CLI, azd) of the developer's: every credential in the chain is unavailable.
    home = await tempDir('azure-home')
  })

  /**
   * The CLI without AZURE_STORAGE_CONNECTION_STRING (testEnv passes nothing it
   * is not given), with the managed-identity endpoint at `identityHost`, and
   * every other request sent to the refusing proxy.
   */
  async function runWithoutCredentials(args: string[], identityHost: string, extra: Record<string, string> = {}): Promise<{result: CliResult; seconds: number}> {
    const started = performance.now()
    const result = await runCli(args, {
      env: {AZURE_POD_IDENTITY_AUTHORITY_HOST: identityHost, HOME: home, ...refusing.env(), ...extra},
      timeoutMs: 90_000,
    })
    return {result, seconds: (performance.now() - started) / 1000}
  }

  it('ends within 60 s with one line naming the account and what to set (verify, fetch, upload)', async () => {
    const closed = await freePort()
    const mark = refusing.mark()
    const dir = await tempDir('azure-nocreds')
    const build = await tempDir('azure-nocreds-build')
    await mkdir(path.join(build, V, 'amd64'), {recursive: true})
    await writeFile(path.join(build, V, 'amd64', 'busybox'), amd64)
    for (const args of [
      ['verify', '--at', `az://${ACCOUNT}/fc-busybox`],
      ['fetch', '--version', V, '--arch', 'amd64', '--from', `az://${ACCOUNT}/fc-busybox`, '--out', path.join(dir, 'busybox')],
      ['upload', '--version', V, '--arch', 'amd64', '--from', build, '--to', `az://${ACCOUNT}/fc-busybox`],
    ]) {
      const {result, seconds} = await runWithoutCredentials(args, `http://127.0.0.1:${closed}`)
      assert.ok(seconds < 60, `${args[0]} took ${seconds} s`)
      assert.equal(result.code, 1, `${args[0]}: ${result.stderr}`)
      // upload reports its verified source first; the failure itself is one line.
      assert.deepEqual(errorLines(result).filter((line) => args[0] !== 'upload' || line.startsWith('e2b-artifacts: error:')), [expected], args[0])
      assert.equal(result.stdout, '')
    }
    assert.deepEqual(await readdir(dir), [])
    // Whatever the credential chain tried went to loopback only (tinyproxy refused it all).
    for (const request of refusing.requestsSince(mark)) assert.equal(request.host, '127.0.0.1', request.summary)
  })

  it('gives up on a managed-identity endpoint that never answers, with the same line, within 60 s', async () => {
    const sockets: Socket[] = []
    const silent: Server = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const {port} = silent.address() as {port: number}
    try {
      // NO_PROXY lets the identity request reach the silent port directly; anything else still meets the refusing proxy.
      const {result, seconds} = await runWithoutCredentials(['verify', '--at', `az://${ACCOUNT}/fc-busybox`], `http://127.0.0.1:${port}`, {NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1'})
      assert.equal(result.code, 1, result.stderr)
      assert.deepEqual(errorLines(result), [expected])
      assert.ok(seconds < 60, `took ${seconds} s`)
      assert.ok(sockets.length > 0, 'the managed-identity request reached the silent endpoint, and was abandoned')
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => silent.close(resolve))
    }
  })
})
