/**
 * `copy-public-builds` end to end: the real CLI as a subprocess, copying a
 * seeded public layout between file://, fake-gcs-server (gs://), versitygw
 * (s3://) buckets and Azurite (az://) containers on loopback. Seeding goes through the store classes, so the
 * objects carry sha256 metadata exactly as `upload` writes them.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {mkdir} from 'node:fs/promises'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {CATALOG, type ArtifactName} from '../../src/core/catalog.js'
import {parseLocation} from '../../src/core/location.js'
import {openStore} from '../../src/stores/open-store.js'
import type {Store} from '../../src/stores/store.js'
import {azuriteServer} from '../support/azurite.js'
import {type CliResult, runCli} from '../support/cli.js'
import {gcsServer, s3Server} from '../support/cloud-servers.js'
import {busyboxBytes} from '../support/fixtures.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const sidecarOf = (body: Buffer, name: string): Buffer => Buffer.from(`${sha(body)}  ${name}\n`)

/** Where buckets live for one kind of store, and how the CLI reaches them. */
interface Backend {
  readonly name: string
  /** `--provider` value when the destination can be named by prefix. */
  readonly provider?: 'gcp' | 'aws'
  /** Whether stat reports sha256 metadata (file:// stores have none). */
  readonly metadata: boolean
  url(bucket: string): string
  createBucket(bucket: string): Promise<void>
  env(): Record<string, string>
}

/** Bucket names unique to this run, since CI may share one server between runs. */
const RUN = randomBytes(3).toString('hex')

async function gcsBackend(): Promise<Backend> {
  const server = await gcsServer()
  return {createBucket: (bucket) => server.createBucket(bucket), env: () => server.env, metadata: true, name: 'gcs', provider: 'gcp', url: (bucket) => `gs://${bucket}`}
}

async function s3Backend(): Promise<Backend> {
  const server = await s3Server()
  return {createBucket: (bucket) => server.createBucket(bucket), env: () => server.env, metadata: true, name: 's3', provider: 'aws', url: (bucket) => `s3://${bucket}`}
}

/** Azurite's one account; containers stand for buckets (named with --to, since --provider azure names fixed containers). */
async function azureBackend(): Promise<Backend> {
  const server = await azuriteServer()
  return {
    createBucket: (container) => server.createContainer(container),
    env: () => server.env,
    metadata: true,
    name: 'azure',
    url: (container) => `az://${server.account}/${container}`,
  }
}

async function fileBackend(): Promise<Backend> {
  const root = await tempDir('copy-buckets')
  return {
    createBucket: async (bucket) => {
      await mkdir(path.join(root, bucket), {recursive: true})
    },
    env: () => ({}),
    metadata: false,
    name: 'file',
    url: (bucket) => `file://${path.join(root, bucket)}`,
  }
}

/** The public layout: every key under its artifact prefix, with its content. */
type Layout = Map<string, Buffer>

async function publicLayout(): Promise<Layout> {
  const amd64 = await busyboxBytes('amd64')
  const arm64 = await busyboxBytes('arm64')
  const objects: Layout = new Map()
  const put = (key: string, body: Buffer, sidecar = true): void => {
    objects.set(key, body)
    if (sidecar) objects.set(`${key}.sha256`, sidecarOf(body, path.posix.basename(key)))
  }
  for (const version of ['1.36.1', '1.35.0']) {
    put(`busybox/${version}/amd64/busybox`, amd64)
    put(`busybox/${version}/arm64/busybox`, arm64)
  }
  // A legacy kernel without the arch level and without a sidecar, and current ones with both.
  put('kernels/6.1.102/vmlinux.bin', randomBytes(300_000), false)
  put('kernels/6.1.158/amd64/vmlinux.bin', randomBytes(700_000))
  put('kernels/6.1.158/arm64/vmlinux.bin', randomBytes(650_000))
  // Firecrackers must be ELF binaries of their arch (verify --at checks): a busybox header does.
  put('firecrackers/v1.10.1/amd64/firecracker', Buffer.concat([amd64, randomBytes(400_000)]))
  put('firecrackers/v1.12.0/arm64/firecracker', Buffer.concat([arm64, randomBytes(420_000)]), false)
  return objects
}

const PREFIXES: Readonly<Record<string, ArtifactName>> = {busybox: 'busybox', firecrackers: 'firecracker', kernels: 'kernel'}

/** `busybox/1.36.1/amd64/busybox` → the busybox artifact and its env key `1.36.1/amd64/busybox`. */
function split(publicKey: string): {artifact: ArtifactName; key: string} {
  const [prefix = '', ...rest] = publicKey.split('/')
  return {artifact: PREFIXES[prefix]!, key: rest.join('/')}
}

const openedStores: Store[] = []

async function storeAt(url: string): Promise<Store> {
  const store = await openStore(parseLocation(url))
  openedStores.push(store)
  return store
}

async function seed(store: Store, objects: Layout): Promise<void> {
  for (const [key, body] of objects) await store.write(key, body, {precondition: 'any', sha256: sha(body), size: body.length})
}

async function readAll(store: Store, key: string): Promise<Buffer | undefined> {
  if (!(await store.stat(key))) return undefined
  const chunks: Buffer[] = []
  for await (const chunk of (await store.read(key)).body as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
}

async function listKeys(store: Store): Promise<string[]> {
  const keys: string[] = []
  for await (const object of store.list('')) keys.push(object.key)
  return keys.sort()
}

interface CopyJson {
  objects: Array<{key: string; artifact: string; action: string; bytes: number; destination: string; method?: string; error?: {kind: string; exitCode: number}}>
  summary: {copied: number; skipped: number; conflicts: number; failed: number; held: number; refused: number; wouldCopy: number; bytesCopied: number; seconds: number; exitCode: number}
}

function parseReport(result: CliResult): CopyJson {
  try {
    return JSON.parse(result.stdout) as CopyJson
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`)
  }
}

/**
 * One source/destination pairing, with the whole behaviour suite run against it.
 * `fresh()` gives a new set of destination buckets for each test, named by a
 * bucket prefix, so that tests never see each other's objects.
 */
function copySuite(label: string, backends: () => {source: Backend; destination: Backend}): void {
  describe(`copy-public-builds: ${label}`, () => {
    let source: Backend
    let destination: Backend
    let layout: Layout
    let from: string
    let counter = 0
    const publicBucket = `pub-${RUN}-${label.replace(/\W+/g, '-')}`.toLowerCase()

    before(async () => {
      ;({source, destination} = backends())
      layout = await publicLayout()
      await source.createBucket(publicBucket)
      from = source.url(publicBucket)
      await seed(await storeAt(from), layout)
    })

    /** A new, empty set of env buckets: `{prefix}fc-busybox`, `{prefix}fc-kernels`, `{prefix}fc-versions`. */
    async function fresh(): Promise<{prefix: string; args: string[]; bucket(artifact: ArtifactName): Promise<Store>}> {
      const prefix = `t${++counter}-${RUN}-${label.replace(/\W+/g, '')}-`.toLowerCase()
      for (const artifact of Object.values(CATALOG)) await destination.createBucket(`${prefix}${artifact.envSuffix}`)
      const args = destination.provider
        ? ['--provider', destination.provider, '--bucket-prefix', prefix]
        : Object.values(CATALOG).flatMap((artifact) => ['--to', `${artifact.name}=${destination.url(`${prefix}${artifact.envSuffix}`)}`])
      return {args, bucket: (artifact) => storeAt(destination.url(`${prefix}${CATALOG[artifact].envSuffix}`)), prefix}
    }

    function copy(args: string[], ...extra: string[]): Promise<CliResult> {
      return runCli(['copy-public-builds', '--from', from, ...args, ...extra], {env: {...source.env(), ...destination.env()}, timeoutMs: 120_000})
    }

    /** Asserts that the destination holds exactly `expected` (public keys), byte for byte, with sha256 metadata. */
    async function assertDestination(target: Awaited<ReturnType<typeof fresh>>, expected: Layout): Promise<void> {
      for (const artifact of Object.values(CATALOG)) {
        const store = await target.bucket(artifact.name)
        const wanted = [...expected].filter(([key]) => split(key).artifact === artifact.name).map(([key, body]) => [split(key).key, body] as const)
        assert.deepEqual(await listKeys(store), wanted.map(([key]) => key).sort(), `keys in ${store.display}`)
        for (const [key, body] of wanted) {
          assert.ok((await readAll(store, key))?.equals(body), `${store.display}/${key} holds the source's bytes`)
          if (destination.metadata) assert.equal((await store.stat(key))?.metadataSha256, sha(body), `${store.display}/${key} carries sha256 metadata`)
        }
      }
    }

    const only = (predicate: (key: string) => boolean): Layout => new Map([...layout].filter(([key]) => predicate(key)))

    it('copies every object, legacy layouts and sidecars included, to the destination root', async () => {
      const target = await fresh()
      const result = await copy(target.args, '--json')
      assert.equal(result.code, 0, result.stderr)
      const report = parseReport(result)
      assert.equal(report.summary.copied, layout.size)
      assert.equal(report.summary.bytesCopied, [...layout.values()].reduce((sum, body) => sum + body.length, 0))
      assert.deepEqual({...report.summary, bytesCopied: 0, copied: 0, seconds: 0}, {bytesCopied: 0, conflicts: 0, copied: 0, exitCode: 0, failed: 0, held: 0, refused: 0, seconds: 0, skipped: 0, wouldCopy: 0})
      const expectedMethod = source.name === destination.name ? 'server-side' : 'streamed'
      for (const object of report.objects.filter((o) => !o.key.endsWith('.sha256'))) assert.equal(object.method, expectedMethod, object.key)
      await assertDestination(target, layout)
      for (const artifact of Object.values(CATALOG)) {
        for (const depth of [['--deep'], []]) {
          const audit = await runCli(['verify', artifact.name, '--at', destination.url(`${target.prefix}${artifact.envSuffix}`), ...depth], {env: destination.env()})
          assert.equal(audit.code, 0, `verify --at the ${artifact.name} destination ${depth.join(' ')}: ${audit.stderr}`)
        }
      }
    })

    it('copies nothing on a re-run, prints one line per object and a summary', async () => {
      const target = await fresh()
      assert.equal((await copy(target.args)).code, 0)
      const again = await copy(target.args)
      assert.equal(again.code, 0, again.stderr)
      assert.equal(again.stdout, '')
      const lines = again.stderr.trimEnd().split('\n')
      assert.equal(lines.length, layout.size + 1)
      for (const line of lines.slice(0, -1)) assert.match(line, /^skipped \S+ → \S+ \(identical: .+\)$/)
      assert.match(lines.at(-1)!, new RegExp(`^copy-public-builds: 0 copied, ${layout.size} skipped, 0 conflicts, 0 failed; 0 B copied in \\d+\\.\\d s$`))
      const json = parseReport(await copy(target.args, '--json'))
      assert.equal(json.summary.copied, 0)
      assert.equal(json.summary.bytesCopied, 0)
      assert.equal(json.summary.skipped, layout.size)
      await assertDestination(target, layout)
    })

    it('leaves a different object untouched with exit 5, and replaces it with --force', async () => {
      const target = await fresh()
      assert.equal((await copy(target.args)).code, 0)
      const kernels = await target.bucket('kernel')
      const changed = Buffer.from('a different kernel')
      await kernels.write('6.1.158/amd64/vmlinux.bin', changed, {precondition: 'any', sha256: sha(changed), size: changed.length})
      await kernels.remove('6.1.158/amd64/vmlinux.bin.sha256')

      const refused = await copy(target.args, '--json')
      assert.equal(refused.code, 5, refused.stderr)
      const report = parseReport(refused)
      assert.deepEqual(
        report.objects.filter((o) => o.action !== 'skipped').map((o) => [o.key, o.action]),
        [['6.1.158/amd64/vmlinux.bin', 'conflict'], ['6.1.158/amd64/vmlinux.bin.sha256', 'held']],
      )
      assert.match(refused.stderr, /^conflict \S+kernels\/6\.1\.158\/amd64\/vmlinux\.bin → \S+\/6\.1\.158\/amd64\/vmlinux\.bin: .*holds different content.*--force/m)
      assert.equal(report.summary.exitCode, 5)
      assert.match(refused.stderr, /\ne2b-artifacts: error: 1 object at the destination holds different content and was left untouched: rerun with --force to overwrite\n$/)
      assert.deepEqual(await readAll(kernels, '6.1.158/amd64/vmlinux.bin'), changed)
      assert.equal(await kernels.stat('6.1.158/amd64/vmlinux.bin.sha256'), undefined, 'the sidecar waits for its binary')

      const forced = await copy(target.args, '--force', '--json')
      assert.equal(forced.code, 0, forced.stderr)
      assert.equal(parseReport(forced).summary.copied, 2)
      await assertDestination(target, layout)
    })

    it('--dry-run reports what it would copy and writes nothing', async () => {
      const target = await fresh()
      const result = await copy(target.args, '--dry-run', '--json')
      assert.equal(result.code, 0, result.stderr)
      const report = parseReport(result)
      assert.equal(report.summary.wouldCopy, layout.size)
      assert.equal(report.summary.copied + report.summary.bytesCopied, 0)
      for (const artifact of Object.values(CATALOG)) assert.deepEqual(await listKeys(await target.bucket(artifact.name)), [])
    })

    it('--artifact and --version filter what is copied', async () => {
      const target = await fresh()
      const kernelOnly = await copy(target.args, '--artifact', 'kernel', '--version', '6.1.158', '--quiet')
      assert.equal(kernelOnly.code, 0, kernelOnly.stderr)
      assert.match(kernelOnly.stderr, /^copy-public-builds: 4 copied, 0 skipped, 0 conflicts, 0 failed; .* copied in \d+\.\d s\n$/, '--quiet prints the summary alone')
      const busybox = await copy(target.args, '--artifact', 'busybox', '--version', '1.35.0')
      assert.equal(busybox.code, 0, busybox.stderr)
      await assertDestination(target, only((key) => key.startsWith('kernels/6.1.158/') || key.startsWith('busybox/1.35.0/')))
    })

    it('refuses a pair whose sidecar disagrees with its binary (exit 3) and copies the rest', async () => {
      const broken = `${publicBucket}-broken`
      await source.createBucket(broken)
      const bad = new Map(layout)
      bad.set('busybox/1.36.1/arm64/busybox.sha256', sidecarOf(Buffer.from('something else'), 'busybox'))
      await seed(await storeAt(source.url(broken)), bad)
      const target = await fresh()
      const result = await runCli(['copy-public-builds', '--from', source.url(broken), ...target.args, '--artifact', 'busybox', '--json'], {
        env: {...source.env(), ...destination.env()},
      })
      assert.equal(result.code, 3, result.stderr)
      const report = parseReport(result)
      const failed = report.objects.filter((o) => o.action === 'failed')
      assert.deepEqual(failed.map((o) => [o.key, o.error?.exitCode]), [['1.36.1/arm64/busybox', 3], ['1.36.1/arm64/busybox.sha256', 3]])
      assert.match(result.stderr, /^failed \S+busybox\/1\.36\.1\/arm64\/busybox → .*busybox\.sha256 says [0-9a-f]{64}, but .* has sha256 [0-9a-f]{64}: neither is copied/m)
      assert.equal(report.summary.copied, 6)
      await assertDestination(target, only((key) => key.startsWith('busybox/') && !key.startsWith('busybox/1.36.1/arm64/')))
    })

    it('exits 4 when the selection matches nothing at the source', async () => {
      const target = await fresh()
      const result = await copy(target.args, '--version', '9.9.9')
      assert.equal(result.code, 4)
      assert.match(result.stderr, /^e2b-artifacts: error: nothing to copy: no objects for version 9\.9\.9 of busybox, kernel, firecracker under \S+; check --from, --artifact and --version\n$/)
    })
  })
}

describe('copy-public-builds: a streamed copy checks the content in flight', () => {
  it('refuses (exit 3) an object whose bytes do not match its sha256 metadata, and writes nothing', async () => {
    const server = await gcsServer()
    const publicBucket = `pub-${RUN}-lying`
    await gcs.createBucket(publicBucket)
    const kernel = randomBytes(200_000)
    const store = await storeAt(gcs.url(publicBucket))
    await store.write('kernels/6.1.102/vmlinux.bin', kernel, {precondition: 'any', sha256: sha(kernel), size: kernel.length})
    // What a bucket edited by hand (or a broken uploader) looks like: metadata that names other content.
    const wrong = sha('other content')
    const response = await fetch(`${server.endpoint}/storage/v1/b/${publicBucket}/o/${encodeURIComponent('kernels/6.1.102/vmlinux.bin')}`, {
      body: JSON.stringify({metadata: {sha256: wrong}}),
      headers: {'content-type': 'application/json'},
      method: 'PATCH',
    })
    assert.equal(response.status, 200, await response.text())
    const prefix = `lying-${RUN}-`
    await s3.createBucket(`${prefix}fc-kernels`)
    const result = await runCli(['copy-public-builds', '--from', gcs.url(publicBucket), '--provider', 'aws', '--bucket-prefix', prefix, '--artifact', 'kernel'], {
      env: {...gcs.env(), ...s3.env()},
    })
    assert.equal(result.code, 3, result.stderr)
    assert.match(result.stderr, new RegExp(`^failed \\S+/6\\.1\\.102/vmlinux\\.bin → \\S+: .*has sha256 ${sha(kernel)}, but its metadata says ${wrong}: not copied$`, 'm'))
    assert.deepEqual(await listKeys(await storeAt(s3.url(`${prefix}fc-kernels`))), [])
  })
})

describe('copy-public-builds --provider azure --storage-account', () => {
  const containers = Object.values(CATALOG).map((artifact) => artifact.envSuffix)

  /** Upstream's fixed container names in Azurite's one account, emptied (containers stay: the tool never creates them). */
  async function emptyUpstreamContainers(): Promise<void> {
    const server = await azuriteServer()
    const {BlobServiceClient} = await import('@azure/storage-blob')
    const service = BlobServiceClient.fromConnectionString(server.connectionString)
    for (const name of containers) {
      const container = service.getContainerClient(name)
      await container.createIfNotExists()
      for await (const blob of container.listBlobsFlat()) await container.deleteBlob(blob.name)
    }
  }

  it('copies each artifact into fc-busybox, fc-kernels and fc-versions of the account, then nothing on a re-run', async () => {
    const server = await azuriteServer()
    await emptyUpstreamContainers()
    const publicBucket = `pub-${RUN}-provider-azure`
    await gcs.createBucket(publicBucket)
    const layout = await publicLayout()
    await seed(await storeAt(gcs.url(publicBucket)), layout)
    const args = ['copy-public-builds', '--from', gcs.url(publicBucket), '--provider', 'azure', '--storage-account', server.account, '--json']
    const env = {...gcs.env(), ...azure.env()}
    const result = await runCli(args, {env, timeoutMs: 120_000})
    assert.equal(result.code, 0, result.stderr)
    const report = parseReport(result) as CopyJson & {destinations: Record<string, string>}
    assert.deepEqual(report.destinations, {busybox: `az://${server.account}/fc-busybox`, firecracker: `az://${server.account}/fc-versions`, kernel: `az://${server.account}/fc-kernels`})
    assert.equal(report.summary.copied, layout.size)
    for (const [publicKey, body] of layout) {
      const {artifact, key} = split(publicKey)
      const store = await storeAt(`az://${server.account}/${CATALOG[artifact].envSuffix}`)
      assert.ok((await readAll(store, key))?.equals(body), `${store.display}/${key}`)
      assert.equal((await store.stat(key))?.metadataSha256, sha(body), 'the sha256 is recorded as metadata')
    }
    const again = parseReport(await runCli(args, {env, timeoutMs: 120_000}))
    assert.deepEqual([again.summary.copied, again.summary.bytesCopied, again.summary.skipped], [0, 0, layout.size])
  })
})

describe('copy-public-builds: a missing Azure container', () => {
  it('exits 4 naming the destination container, copies nothing, and creates no container', async () => {
    const server = await azuriteServer()
    const publicBucket = `pub-${RUN}-no-container`
    await gcs.createBucket(publicBucket)
    const body = randomBytes(1000)
    await seed(await storeAt(gcs.url(publicBucket)), new Map([['kernels/6.1.158/amd64/vmlinux.bin', body]]))
    const missing = `missing-${RUN}-fc-kernels`
    const result = await runCli(['copy-public-builds', '--from', gcs.url(publicBucket), '--to', `kernel=az://${server.account}/${missing}`], {env: {...gcs.env(), ...azure.env()}})
    assert.equal(result.code, 4, result.stderr)
    assert.match(result.stderr, new RegExp(`container '${missing}' does not exist in storage account '${server.account}' \\(e2b-artifacts never creates containers`))
    const {BlobServiceClient} = await import('@azure/storage-blob')
    assert.equal(await BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(missing).exists(), false)
  })

  it('exits 4 naming the source container', async () => {
    const server = await azuriteServer()
    const missing = `missing-${RUN}-public`
    const target = `${RUN}-present-fc-kernels`
    await azure.createBucket(target)
    const result = await runCli(['copy-public-builds', '--from', `az://${server.account}/${missing}`, '--to', `kernel=az://${server.account}/${target}`], {env: azure.env()})
    assert.equal(result.code, 4, result.stderr)
    assert.match(result.stderr, new RegExp(`container '${missing}' does not exist in storage account '${server.account}'`))
  })
})

describe('copy-public-builds: usage errors', () => {
  it('rejects an https source that cannot be listed, naming the one https form that can', async () => {
    const result = await runCli(['copy-public-builds', '--from', 'https://mirror.example.com/e2b-artifact-binaries', '--provider', 'gcp', '--bucket-prefix', 'x-'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /^e2b-artifacts: error: cannot list https:\/\/mirror\.example\.com\/e2b-artifact-binaries: only the anonymous view https:\/\/storage\.googleapis\.com\/BUCKET can be listed over https; pass --from with it, or a gs:\/\/, s3:\/\/ or file:\/\/ location\n$/)
  })

  for (const [args, message] of [
    [['--from', 'file:///tmp/x'], /no destination: pass --provider gcp\|aws with --bucket-prefix PREFIX, --provider azure with --storage-account NAME, or --to ARTIFACT=LOCATION/],
    [['--from', 'file:///tmp/x', '--provider', 'gcp'], /--provider needs --bucket-prefix PREFIX/],
    [['--from', 'file:///tmp/x', '--to', 'busybox'], /invalid --to 'busybox': expected ARTIFACT=LOCATION/],
    [['--from', 'file:///tmp/x', '--to', 'busybox=/tmp/y', '--artifact', 'kernel'], /no destination for kernel: add --to kernel=LOCATION/],
    [['--from', 'file:///tmp/x', '--provider', 'gcp', '--bucket-prefix', 'x-', '--to', 'busybox=/tmp/y'], /use either --provider with --bucket-prefix \(or --storage-account\), or --to pairs, not both/],
    [['--from', 'file:///tmp/x', '--provider', 'azure'], /--provider azure needs --storage-account NAME/],
    [['--from', 'file:///tmp/x', '--provider', 'azure', '--bucket-prefix', 'x-'], /--provider azure takes --storage-account NAME, not --bucket-prefix/],
    [['--from', 'file:///tmp/x', '--to', 'busybox=/tmp/y', '--storage-account', 'acct'], /--storage-account needs --provider azure/],
    [['--from', 'file:///tmp/x', '--provider', 'gcp', '--bucket-prefix', 'x-', '--storage-account', 'acct'], /--storage-account goes with --provider azure, not gcp/],
    [['--from', 'file:///tmp/x', '--provider', 'azure', '--storage-account', 'Not_An_Account'], /invalid --storage-account 'Not_An_Account': an Azure storage account name is 3 to 24 lowercase letters and digits/],
  ] as const) {
    it(`exits 2 for ${args.slice(2).join(' ') || 'no destination'}`, async () => {
      const result = await runCli(['copy-public-builds', ...args])
      assert.equal(result.code, 2, result.stderr)
      assert.match(result.stderr, message)
    })
  }
})

let files: Backend
let gcs: Backend
let s3: Backend
let azure: Backend

before(async () => {
  ;[files, gcs, s3, azure] = await Promise.all([fileBackend(), gcsBackend(), s3Backend(), azureBackend()])
  // Stores opened in this process (to seed and inspect buckets) reach the same servers as the CLI.
  Object.assign(process.env, gcs.env(), s3.env(), azure.env())
})

after(async () => {
  await Promise.allSettled(openedStores.splice(0).map((store) => store.close?.()))
  await removeTempDirs()
})

copySuite('file to file', () => ({destination: files, source: files}))
copySuite('gcs to gcs', () => ({destination: gcs, source: gcs}))
copySuite('gcs to s3', () => ({destination: s3, source: gcs}))
copySuite('s3 to gcs', () => ({destination: gcs, source: s3}))
copySuite('gcs to azure', () => ({destination: azure, source: gcs}))
copySuite('azure to azure', () => ({destination: azure, source: azure}))
