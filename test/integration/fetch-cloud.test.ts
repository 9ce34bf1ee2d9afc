/**
 * `fetch --from gs://…`, `--from s3://…` and `--from az://…` through the real
 * CLI, against fake-gcs-server, versitygw and Azurite, in both bucket layouts.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readFile, readdir, stat, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'

import {parseLocation} from '../../src/core/location.js'
import {formatSidecar} from '../../src/integrity/sidecar.js'
import {openStore} from '../../src/stores/open-store.js'
import type {Store} from '../../src/stores/store.js'
import {azuriteServer} from '../support/azurite.js'
import {runCli} from '../support/cli.js'
import {gcsServer, s3Server, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {listFiles, removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

interface Provider {
  readonly scheme: 'gs' | 's3' | 'az'
  env: Record<string, string>
  createBucket(name: string): Promise<void>
  /** The location of a bucket (for az://, a container of the emulator's account). */
  url(bucket: string): string
}

async function providerFor(scheme: Provider['scheme']): Promise<Provider> {
  if (scheme === 'az') {
    const azurite = await azuriteServer()
    return {createBucket: (name) => azurite.createContainer(name), env: azurite.env, scheme, url: (bucket) => `az://${azurite.account}/${bucket}`}
  }
  const server = scheme === 'gs' ? await gcsServer() : await s3Server()
  return {createBucket: (name) => server.createBucket(name), env: server.env, scheme, url: (bucket) => `${scheme}://${bucket}`}
}

/** Puts a binary and its sidecar at `{root}{version}/{arch}/busybox` in a fresh bucket. */
async function seed(provider: Provider, bucket: string, root: string, binary: Buffer, sidecarDigest = sha(binary)): Promise<void> {
  await provider.createBucket(bucket)
  Object.assign(process.env, provider.env)
  const store: Store = await openStore(parseLocation(provider.url(bucket)))
  try {
    const key = `${root}${V}/amd64/busybox`
    const sidecar = Buffer.from(formatSidecar(sidecarDigest, 'busybox'))
    await store.write(key, binary, {precondition: 'absent', sha256: sha(binary), size: binary.length})
    await store.write(`${key}.sha256`, sidecar, {contentType: 'text/plain', precondition: 'absent', sha256: sha(sidecar), size: sidecar.length})
  } finally {
    await store.close?.()
  }
}

/**
 * A module hook for the CLI process that records every cloud SDK module it
 * resolves, to prove that an up-to-date fetch never loads one.
 */
async function sdkLoadRecorder(dir: string): Promise<{nodeOptions: string; log: string}> {
  const log = path.join(dir, 'sdk-loads.log')
  const hooks = path.join(dir, 'sdk-hooks.mjs')
  const register = path.join(dir, 'sdk-register.mjs')
  await writeFile(
    hooks,
    `import {appendFileSync} from 'node:fs'
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  if (/@google-cloud[\\\\/]storage|@aws-sdk[\\\\/]client-s3|@azure[\\\\/](storage-blob|identity)/.test(result.url)) appendFileSync(${JSON.stringify(log)}, result.url + '\\n')
  return result
}
`,
  )
  await writeFile(register, `import {register} from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\n`)
  await writeFile(log, '')
  return {log, nodeOptions: `--import ${pathToFileURL(register).href}`}
}

let amd64: Buffer
let arm64: Buffer

before(async () => {
  amd64 = await busyboxBytes('amd64')
  arm64 = await busyboxBytes('arm64')
})

after(async () => {
  await removeTempDirs()
})

for (const scheme of ['gs', 's3', 'az'] as const) {
  describe(`fetch --from ${scheme}://`, () => {
    let provider: Provider

    before(async () => {
      provider = await providerFor(scheme)
    })

    async function fetchInto(from: string, extraEnv: Record<string, string> = {}): Promise<{dir: string; out: string; result: Awaited<ReturnType<typeof runCli>>}> {
      const dir = await tempDir(`fetch-${scheme}`)
      const out = path.join(dir, 'busybox')
      const result = await runCli(['fetch', '--version', V, '--arch', 'amd64', '--from', from, '--out', out], {cwd: dir, env: {...provider.env, ...extraEnv}})
      return {dir, out, result}
    }

    async function assertInstalled(dir: string, out: string): Promise<void> {
      assert.deepEqual(await readFile(out), amd64)
      assert.equal(await readFile(`${out}.sha256`, 'utf8'), `${sha(amd64)}  busybox\n`)
      assert.equal((await stat(out)).mode & 0o777, 0o755)
      assert.deepEqual(await listFiles(dir), ['busybox', 'busybox.sha256'], 'no .tmp files are left')
    }

    it('fetches from the public layout ({bucket}/busybox/{v}/{arch}/busybox)', async () => {
      const bucket = uniqueBucket('pub')
      await seed(provider, bucket, 'busybox/', amd64)
      const {dir, out, result} = await fetchInto(provider.url(bucket))
      assert.equal(result.code, 0, result.stderr)
      await assertInstalled(dir, out)
    })

    it('fetches from an env bucket ({prefix}fc-busybox/{v}/{arch}/busybox)', async () => {
      const bucket = `${uniqueBucket('env')}-fc-busybox`
      await seed(provider, bucket, '', amd64)
      const {dir, out, result} = await fetchInto(provider.url(bucket))
      assert.equal(result.code, 0, result.stderr)
      await assertInstalled(dir, out)
    })

    it('answers the second fetch from disk without loading any cloud SDK', async () => {
      const bucket = uniqueBucket('fast')
      await seed(provider, bucket, 'busybox/', amd64)
      const dir = await tempDir(`fetch-${scheme}-fast`)
      const recorder = await sdkLoadRecorder(await tempDir('sdk-hooks'))
      const out = path.join(dir, 'busybox')
      const args = ['fetch', '--version', V, '--arch', 'amd64', '--from', provider.url(bucket), '--out', out]
      const first = await runCli(args, {cwd: dir, env: {...provider.env, NODE_OPTIONS: recorder.nodeOptions}})
      assert.equal(first.code, 0, first.stderr)
      assert.notEqual(await readFile(recorder.log, 'utf8'), '', 'the download itself loads the SDK (the recorder works)')
      await writeFile(recorder.log, '')
      const second = await runCli(args, {cwd: dir, env: {...provider.env, NODE_OPTIONS: recorder.nodeOptions}})
      assert.equal(second.code, 0, second.stderr)
      assert.match(second.stderr, /up to date/)
      assert.equal(await readFile(recorder.log, 'utf8'), '', 'an up-to-date fetch loads no cloud SDK')
    })

    it('refuses a binary whose sidecar disagrees: exit 3, nothing installed', async () => {
      const bucket = uniqueBucket('bad')
      await seed(provider, bucket, 'busybox/', amd64, sha(arm64))
      const {dir, out, result} = await fetchInto(provider.url(bucket))
      assert.equal(result.code, 3, result.stderr)
      assert.match(result.stderr, /sidecar/)
      await assert.rejects(stat(out), {code: 'ENOENT'})
      assert.deepEqual(await readdir(dir), [], 'no file and no .tmp files are left')
    })

    it('reports a missing version as not found: exit 4', async () => {
      const bucket = uniqueBucket('none')
      await seed(provider, bucket, 'busybox/', amd64)
      const dir = await tempDir(`fetch-${scheme}-none`)
      const result = await runCli(['fetch', '--version', '9.9.9', '--arch', 'amd64', '--from', provider.url(bucket), '--out', path.join(dir, 'busybox')], {cwd: dir, env: provider.env})
      assert.equal(result.code, 4, result.stderr)
      assert.deepEqual(await readdir(dir), [])
    })
  })
}
