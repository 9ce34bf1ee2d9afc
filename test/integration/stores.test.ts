/**
 * One contract for every writable store, run against the real thing: a local
 * directory, fake-gcs-server (GCS), versitygw (S3) and Azurite (Azure Blob).
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {Readable, Transform} from 'node:stream'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'

import {ConflictError, IntegrityError, NotFoundError} from '../../src/core/errors.js'
import {parseLocation} from '../../src/core/location.js'
import {HashingStream} from '../../src/integrity/hash.js'
import {formatSidecar} from '../../src/integrity/sidecar.js'
import {GcsStore} from '../../src/stores/gcs-store.js'
import {openStore} from '../../src/stores/open-store.js'
import {readHead} from '../../src/stores/ops/read-small.js'
import type {BucketLocation} from '../../src/core/location.js'
import {expectedSha256} from '../../src/integrity/content-identity.js'
import type {ObjectInfo, RefusedEntry, Store, WriteOptions} from '../../src/stores/store.js'
import {azuriteServer} from '../support/azurite.js'
import {gcsServer, s3Server, uniqueBucket} from '../support/cloud-servers.js'
import {FIXTURE_VERSION, busyboxBytes} from '../support/fixtures.js'
import {listFiles, removeTempDirs, tempDir} from '../support/temp-dirs.js'

const run = promisify(execFile)
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')
const absent = (data: Buffer): WriteOptions => ({precondition: 'absent', sha256: sha256(data), size: data.length})
const overwrite = (data: Buffer): WriteOptions => ({precondition: 'any', sha256: sha256(data), size: data.length})

async function readAll(store: Store, key: string): Promise<Buffer> {
  const {body, size} = await store.read(key)
  const chunks: Buffer[] = []
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk)
  const content = Buffer.concat(chunks)
  if (size !== undefined) assert.equal(content.length, size, 'announced size')
  return content
}

async function keys(store: Store, prefix: string): Promise<string[]> {
  const found: Array<ObjectInfo | RefusedEntry> = []
  for await (const info of store.list(prefix)) found.push(info)
  return found.map((info) => info.key).sort()
}

/** A body that delivers its bytes in pieces, as a download does. */
function streamOf(data: Buffer, pieces = 3): Readable {
  const size = Math.ceil(data.length / pieces)
  return Readable.from(Array.from({length: pieces}, (_, i) => data.subarray(i * size, (i + 1) * size)).filter((chunk) => chunk.length > 0))
}

/** A body whose end comes well after its last bytes, as a download's does: a consumer has long had every byte by then. */
function lateEndingStreamOf(data: Buffer): Readable {
  return Readable.from(
    (async function* () {
      yield* streamOf(data)
      await new Promise((resolve) => setTimeout(resolve, 300))
    })(),
  )
}

/** A body that fails after sending most of its bytes, as a failed verification upstream does. */
function failingStreamOf(data: Buffer): Readable {
  const failing = new Transform({
    flush: (callback) => callback(new IntegrityError('upstream content check failed')),
    transform: (chunk, _encoding, callback) => callback(null, chunk),
  })
  return streamOf(data).pipe(failing)
}

interface StoreCase {
  readonly name: string
  /** Whether stat() reports the sha256 a write recorded (object metadata). */
  readonly recordsSha256: boolean
  /** Whether stat() reports a sha256 the service computed itself (S3 ChecksumSHA256), kept apart from the metadata. */
  readonly serviceSha256: boolean
  /** Two fresh, empty stores of this kind, in different buckets or directories. */
  open(): Promise<[Store, Store]>
}

async function fileStores(): Promise<[Store, Store]> {
  return [await openStore(parseLocation(await tempDir('store-a'))), await openStore(parseLocation(await tempDir('store-b')))]
}

async function gcsStores(): Promise<[Store, Store]> {
  const server = await gcsServer()
  Object.assign(process.env, server.env)
  const [first, second] = [uniqueBucket('contract'), uniqueBucket('contract')]
  await server.createBucket(first)
  await server.createBucket(second)
  // A location prefix plus a store root, so that relative keys are really relative.
  return [await openStore(parseLocation(`gs://${first}/base`), 'root'), await openStore(parseLocation(`gs://${second}`))]
}

async function s3Stores(): Promise<[Store, Store]> {
  const server = await s3Server()
  Object.assign(process.env, server.env)
  const [first, second] = [uniqueBucket('contract'), uniqueBucket('contract')]
  await server.createBucket(first)
  await server.createBucket(second)
  return [await openStore(parseLocation(`s3://${first}/base`), 'root'), await openStore(parseLocation(`s3://${second}`))]
}

async function azureStores(): Promise<[Store, Store]> {
  const server = await azuriteServer()
  Object.assign(process.env, server.env)
  const [first, second] = [uniqueBucket('contract'), uniqueBucket('contract')]
  await server.createContainer(first)
  await server.createContainer(second)
  return [await openStore(parseLocation(`az://${server.account}/${first}/base`), 'root'), await openStore(parseLocation(`az://${server.account}/${second}`))]
}

const CASES: StoreCase[] = [
  {name: 'FileStore (local directory)', open: fileStores, recordsSha256: false, serviceSha256: false},
  {name: 'GcsStore (fake-gcs-server)', open: gcsStores, recordsSha256: true, serviceSha256: false},
  {name: 'S3Store (versitygw)', open: s3Stores, recordsSha256: true, serviceSha256: true},
  {name: 'AzureStore (Azurite)', open: azureStores, recordsSha256: true, serviceSha256: false},
]

after(async () => {
  await removeTempDirs()
})

for (const storeCase of CASES) {
  describe(`${storeCase.name} contract`, () => {
    let store: Store
    let other: Store

    before(async () => {
      ;[store, other] = await storeCase.open()
    })

    after(async () => {
      await store.close?.()
      await other.close?.()
    })

    it('writes only when absent, records sha256 and size, and reads back the exact bytes', async () => {
      const data = randomBytes(300_000)
      const info = await store.write('v1/amd64/bin', data, absent(data))
      assert.equal(info.size, data.length)
      assert.equal(expectedSha256(info), sha256(data))
      const stat = await store.stat('v1/amd64/bin')
      assert.equal(stat?.size, data.length)
      // The metadata a client wrote is a claim, kept apart from a sha256 the service computed.
      assert.equal(stat?.metadataSha256, storeCase.recordsSha256 ? sha256(data) : undefined)
      assert.equal(stat?.sha256, storeCase.serviceSha256 ? sha256(data) : undefined)
      assert.deepEqual(await readAll(store, 'v1/amd64/bin'), data)
    })

    it('reads just the first bytes, and the connection stays usable afterwards', async () => {
      const big = randomBytes(2_000_000)
      const small = Buffer.from('small')
      await store.write('head/big', big, absent(big))
      await store.write('head/small', small, absent(small))
      const ranged = await store.read('head/big', {firstBytes: 64})
      assert.equal(ranged.size, 64, 'a ranged read, not the whole object')
      ranged.body.resume()
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await readHead(store, 'head/big', 64), big.subarray(0, 64))
        assert.equal((await store.stat('head/small'))?.size, small.length)
        assert.deepEqual(await readAll(store, 'head/small'), small)
      }
      assert.deepEqual(await readHead(store, 'head/small', 64), small)
    })

    it('refuses a second write when absent is required, and keeps the original', async () => {
      const original = randomBytes(1000)
      const replacement = randomBytes(1200)
      await store.write('conflict/bin', original, absent(original))
      await assert.rejects(store.write('conflict/bin', replacement, absent(replacement)), ConflictError)
      await assert.rejects(store.write('conflict/bin', streamOf(replacement), absent(replacement)), ConflictError)
      assert.deepEqual(await readAll(store, 'conflict/bin'), original)
    })

    it("overwrites with precondition 'any'", async () => {
      const original = randomBytes(1000)
      const replacement = randomBytes(2000)
      await store.write('overwrite/bin', original, absent(original))
      const info = await store.write('overwrite/bin', streamOf(replacement), overwrite(replacement))
      assert.equal(info.size, replacement.length)
      assert.deepEqual(await readAll(store, 'overwrite/bin'), replacement)
      if (storeCase.recordsSha256) assert.equal((await store.stat('overwrite/bin'))?.metadataSha256, sha256(replacement))
    })

    it('writes from a stream', async () => {
      const data = randomBytes(2_500_000)
      await store.write('stream/bin', streamOf(data, 7), absent(data))
      assert.deepEqual(await readAll(store, 'stream/bin'), data)
    })

    it('lists keys under a prefix relative to the root', async () => {
      const data = Buffer.from('x')
      for (const key of ['list/1.0/amd64/a', 'list/1.0/arm64/a', 'list/1.0/arm64/a.sha256', 'list/1.01/amd64/a', 'list-other/b']) {
        await store.write(key, data, absent(data))
      }
      assert.deepEqual(await keys(store, 'list/1.0/'), ['list/1.0/amd64/a', 'list/1.0/arm64/a', 'list/1.0/arm64/a.sha256'])
      // A plain string prefix, not a directory: 'list/1.0' also matches 'list/1.01/…'.
      assert.deepEqual(await keys(store, 'list/1.0'), ['list/1.0/amd64/a', 'list/1.0/arm64/a', 'list/1.0/arm64/a.sha256', 'list/1.01/amd64/a'])
      assert.deepEqual(await keys(store, 'list/'), ['list/1.0/amd64/a', 'list/1.0/arm64/a', 'list/1.0/arm64/a.sha256', 'list/1.01/amd64/a'])
      assert.deepEqual(await keys(store, 'list'), ['list-other/b', 'list/1.0/amd64/a', 'list/1.0/arm64/a', 'list/1.0/arm64/a.sha256', 'list/1.01/amd64/a'])
      assert.ok((await keys(store, '')).includes('list-other/b'))
      assert.deepEqual(await keys(store, 'nothing-here'), [])
    })

    it('removes objects, and removing a missing one is not an error', async () => {
      const data = Buffer.from('bye')
      await store.write('remove/x', data, absent(data))
      await store.remove('remove/x')
      assert.equal(await store.stat('remove/x'), undefined)
      await store.remove('remove/x')
    })

    it('reports a missing object as undefined (stat) and NotFoundError (read)', async () => {
      assert.equal(await store.stat('missing/bin'), undefined)
      await assert.rejects(store.read('missing/bin'), NotFoundError)
    })

    it('rejects content that does not match its declared sha256 and leaves nothing behind', async () => {
      const declared = randomBytes(5000)
      const actual = Buffer.from(declared)
      actual[2500]! ^= 0xff
      await assert.rejects(store.write('mismatch/buffer', actual, absent(declared)), IntegrityError)
      assert.equal(await store.stat('mismatch/buffer'), undefined)
      await assert.rejects(store.write('mismatch/stream', streamOf(actual), absent(declared)), IntegrityError)
      assert.equal(await store.stat('mismatch/stream'), undefined)
    })

    it('aborts a write whose body fails midway, with that failure, and stores nothing', async () => {
      const data = randomBytes(3_000_000)
      await assert.rejects(store.write('failing/bin', failingStreamOf(data), absent(data)), /upstream content check failed/)
      assert.equal(await store.stat('failing/bin'), undefined)
    })

    it('copies within the provider, keeping the sha256, and respects absent', async () => {
      if (!store.copyWithin) return
      const data = randomBytes(100_000)
      await store.write('copy/src', data, absent(data))
      const copied = await other.copyWithin?.(store, 'copy/src', 'copy/dst', absent(data))
      assert.ok(copied, 'a same-provider copy happens server side')
      assert.equal(copied.size, data.length)
      assert.deepEqual(await readAll(other, 'copy/dst'), data)
      if (storeCase.recordsSha256) assert.equal((await other.stat('copy/dst'))?.metadataSha256, sha256(data))
      if (storeCase.serviceSha256) assert.equal((await other.stat('copy/dst'))?.sha256, sha256(data), 'the copy carries a checksum the server computed')
      const different = randomBytes(10)
      await other.write('copy/taken', different, absent(different))
      await assert.rejects(other.copyWithin!(store, 'copy/src', 'copy/taken', absent(data)), ConflictError)
      assert.deepEqual(await readAll(other, 'copy/taken'), different)
      if (!storeCase.recordsSha256) return
      // The expected digest is checked against the source's recorded one before anything is copied.
      await assert.rejects(other.copyWithin!(store, 'copy/src', 'copy/wrong', absent(randomBytes(100_000))), IntegrityError)
      assert.equal(await other.stat('copy/wrong'), undefined)
    })
  })
}

describe('copyWithin across providers', () => {
  it('declines (returns undefined) so the caller streams instead', async () => {
    const [gcs] = await gcsStores()
    const [s3] = await s3Stores()
    const [file] = await fileStores()
    const [azure] = await azureStores()
    const data = Buffer.from('x')
    await gcs.write('k', data, absent(data))
    await azure.write('k', data, absent(data))
    assert.equal(await s3.copyWithin?.(gcs, 'k', 'k', absent(data)), undefined)
    assert.equal(await gcs.copyWithin?.(file, 'k', 'k', absent(data)), undefined)
    assert.equal(await azure.copyWithin?.(gcs, 'k', 'k2', absent(data)), undefined)
    assert.equal(await gcs.copyWithin?.(azure, 'k', 'k2', absent(data)), undefined)
    assert.equal(await azure.stat('k2'), undefined)
    await s3.close?.()
    await azure.close?.()
  })
})

describe('AzureStore block path (large objects)', () => {
  let store: Store
  let container: string

  before(async () => {
    const server = await azuriteServer()
    Object.assign(process.env, server.env)
    container = uniqueBucket('blocks')
    await server.createContainer(container)
    store = await openStore(parseLocation(`az://${server.account}/${container}`))
  })

  after(async () => {
    await store.close?.()
  })

  it('stages blocks, commits them once, and records sha256 and the md5 of the whole', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 17)
    const info = await store.write('big', streamOf(data, 5), absent(data))
    assert.equal(info.sha256, sha256(data))
    assert.equal(info.md5, createHash('md5').update(data).digest('base64'))
    assert.equal(info.size, data.length)
    // A stat sees the sha256 as the metadata it is (a claim); the write vouches for it, having hashed every byte it sent.
    const {sha256: _computed, ...stored} = info
    assert.deepEqual(await store.stat('big'), {...stored, metadataSha256: sha256(data)})
    assert.deepEqual(await readAll(store, 'big'), data)
    const {BlobServiceClient} = await import('@azure/storage-blob')
    const blob = BlobServiceClient.fromConnectionString(process.env.AZURE_STORAGE_CONNECTION_STRING!).getContainerClient(container).getBlockBlobClient('big')
    const blocks = await blob.getBlockList('committed')
    assert.deepEqual(blocks.committedBlocks?.map((block) => block.size), [4 * 1024 * 1024, 4 * 1024 * 1024, 1024 * 1024 + 17])
    await assert.rejects(store.write('big', streamOf(data), absent(data)), ConflictError)
    const replacement = randomBytes(8 * 1024 * 1024 + 1)
    assert.equal((await store.write('big', streamOf(replacement), overwrite(replacement))).sha256, sha256(replacement))
    assert.deepEqual(await readAll(store, 'big'), replacement)
  })

  it('never commits content that does not match, nor a body that fails', async () => {
    const declared = randomBytes(9 * 1024 * 1024)
    const actual = Buffer.from(declared)
    actual[actual.length - 1]! ^= 1
    await assert.rejects(store.write('bad', streamOf(actual), absent(declared)), IntegrityError)
    await assert.rejects(store.write('bad', failingStreamOf(declared), absent(declared)), /upstream content check failed/)
    await assert.rejects(store.write('bad', streamOf(declared.subarray(1)), absent(declared)), /body ended after/)
    assert.equal(await store.stat('bad'), undefined)
    assert.deepEqual(await keys(store, 'bad'), [])
  })
})

describe('AzureStore streamed Put Blob (a stream with the source service\'s MD5)', () => {
  let store: Store
  let container: string
  const md5 = (data: Buffer): string => createHash('md5').update(data).digest('base64')
  const withMd5 = (options: WriteOptions, data: Buffer): WriteOptions => ({...options, md5: md5(data)})

  before(async () => {
    const server = await azuriteServer()
    Object.assign(process.env, server.env)
    container = uniqueBucket('streamed')
    await server.createContainer(container)
    store = await openStore(parseLocation(`az://${server.account}/${container}`))
  })

  after(async () => {
    await store.close?.()
  })

  async function blockCount(key: string): Promise<number> {
    const {BlobServiceClient} = await import('@azure/storage-blob')
    const blob = BlobServiceClient.fromConnectionString(process.env.AZURE_STORAGE_CONNECTION_STRING!).getContainerClient(container).getBlockBlobClient(key)
    return (await blob.getBlockList('committed')).committedBlocks?.length ?? 0
  }

  it('sends a body larger than a block in one request, with the service computing the MD5 it was given', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 17)
    const info = await store.write('one-put', streamOf(data, 7), withMd5(absent(data), data))
    assert.equal(info.md5, md5(data))
    assert.equal(info.sha256, sha256(data))
    assert.equal(await blockCount('one-put'), 0, 'one Put Blob, not a block list')
    assert.deepEqual(await store.stat('one-put'), {key: 'one-put', md5: md5(data), metadataSha256: sha256(data), size: data.length, version: info.version})
    assert.deepEqual(await readAll(store, 'one-put'), data)
    await assert.rejects(store.write('one-put', streamOf(data), withMd5(absent(data), data)), ConflictError)
  })

  it('never stores, nor replaces an existing blob with, content that fails the sha256 check, a wrong MD5, or a failing or short body', async () => {
    const good = randomBytes(3 * 1024 * 1024)
    await store.write('kept', good, absent(good))
    const declared = randomBytes(3 * 1024 * 1024)
    const flipped = Buffer.from(declared)
    flipped[flipped.length - 1]! ^= 1
    for (const key of ['kept', 'never']) {
      const options = key === 'kept' ? overwrite(declared) : absent(declared)
      await assert.rejects(store.write(key, streamOf(flipped), withMd5(options, declared)), /has sha256 .* but the declared digest says/)
      // The MD5 describes the bytes that arrive (a source object replaced under its sha256 claim): the service would take
      // them, so only the sha256 check stops them, and it must do so before the service has the last byte.
      await assert.rejects(store.write(key, lateEndingStreamOf(flipped), withMd5(options, flipped)), /has sha256 .* but the declared digest says/)
      // The sha256 holds, but the MD5 the source reported does not: the service refuses the bytes.
      await assert.rejects(store.write(key, streamOf(declared), withMd5(options, flipped)), IntegrityError)
      await assert.rejects(store.write(key, failingStreamOf(declared), withMd5(options, declared)), /upstream content check failed/)
      await assert.rejects(store.write(key, streamOf(declared.subarray(1)), withMd5(options, declared)), /body ended after/)
    }
    // A body that checks the declared digest itself (a streamed copy's) is trusted to fail, and its verdict is the error.
    const copying = (data: Buffer): HashingStream => {
      const check = new HashingStream({expect: {claimedBy: 'its metadata', consequence: 'not copied', sha256: sha256(declared), size: declared.length, where: 'the source'}})
      return lateEndingStreamOf(data).pipe(check)
    }
    await assert.rejects(store.write('kept', copying(flipped), withMd5(overwrite(declared), declared)), /the source has sha256 .* but its metadata says .*: not copied$/)
    await assert.rejects(store.write('never', copying(flipped), withMd5(absent(declared), declared)), /but its metadata says/)
    await assert.rejects(store.write('kept', copying(flipped), withMd5(overwrite(declared), flipped)), /but its metadata says/)
    await assert.rejects(store.write('never', copying(flipped), withMd5(absent(declared), flipped)), /but its metadata says/)
    await store.write('checked', copying(declared), withMd5(absent(declared), declared))
    assert.deepEqual(await readAll(store, 'checked'), declared)
    assert.deepEqual(await readAll(store, 'kept'), good, 'the existing blob is untouched')
    assert.equal(await store.stat('never'), undefined)
    assert.deepEqual(await keys(store, 'never'), [])
  })
})

describe('AzureStore with a missing container', () => {
  it('fails every operation with NotFoundError naming the container and the account, and creates nothing', async () => {
    const server = await azuriteServer()
    Object.assign(process.env, server.env)
    const container = uniqueBucket('missing')
    const store = await openStore(parseLocation(`az://${server.account}/${container}/prefix`))
    const named = new RegExp(`container '${container}' does not exist in storage account '${server.account}'.*never creates containers`)
    const data = Buffer.from('content')
    for (const attempt of [
      () => store.stat('k'),
      () => store.read('k'),
      () => store.write('k', data, absent(data)),
      () => store.write('k', randomBytes(9 * 1024 * 1024), absent(randomBytes(9 * 1024 * 1024))),
      () => keys(store, ''),
      () => store.remove('k'),
    ]) {
      await assert.rejects(attempt(), (error: unknown) => error instanceof NotFoundError && named.test(error.message))
    }
    const {BlobServiceClient} = await import('@azure/storage-blob')
    assert.equal(await BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(container).exists(), false)
  })
})

describe('GcsStore resumable path (large objects)', () => {
  let store: GcsStore

  before(async () => {
    const server = await gcsServer()
    Object.assign(process.env, server.env)
    const bucket = uniqueBucket('resumable')
    await server.createBucket(bucket)
    // A low limit sends everything over the streaming, resumable path.
    store = new GcsStore(parseLocation(`gs://${bucket}`) as BucketLocation, '', {inMemoryUploadLimit: 1024})
  })

  it('uploads in chunks and records sha256 and md5', async () => {
    const data = randomBytes(9 * 1024 * 1024 + 17)
    const info = await store.write('big', streamOf(data, 5), absent(data))
    assert.equal(info.metadataSha256, sha256(data))
    assert.equal(info.md5, createHash('md5').update(data).digest('base64'))
    assert.deepEqual(await readAll(store, 'big'), data)
    await assert.rejects(store.write('big', streamOf(data), absent(data)), ConflictError)
  })

  it('never finalises content that does not match, nor a body that fails', async () => {
    const declared = randomBytes(9 * 1024 * 1024)
    const actual = Buffer.from(declared)
    actual[actual.length - 1]! ^= 1
    await assert.rejects(store.write('bad', streamOf(actual), absent(declared)), IntegrityError)
    await assert.rejects(store.write('bad', failingStreamOf(declared), absent(declared)), /upstream content check failed/)
    assert.equal(await store.stat('bad'), undefined)
  })
})

describe('GCS public URL interop with the old shell scripts', () => {
  it('serves binary and sidecar over plain HTTP so that curl + sha256sum -c pass', async () => {
    const server = await gcsServer()
    Object.assign(process.env, server.env)
    const bucket = uniqueBucket('public')
    await server.createBucket(bucket)
    const store = await openStore(parseLocation(`gs://${bucket}`))
    const binary = await busyboxBytes('amd64')
    const key = `busybox/${FIXTURE_VERSION}/amd64/busybox`
    const sidecar = Buffer.from(formatSidecar(sha256(binary), 'busybox'))
    await store.write(key, binary, absent(binary))
    await store.write(`${key}.sha256`, sidecar, {...absent(sidecar), contentType: 'text/plain'})

    const dir = await tempDir('curl')
    const url = `${server.publicUrl}/${bucket}/${key}`
    await run('curl', ['-fsS', '-o', path.join(dir, 'busybox'), url])
    await run('curl', ['-fsS', '-o', path.join(dir, 'busybox.sha256'), `${url}.sha256`])
    const {stdout} = await run('sha256sum', ['-c', 'busybox.sha256'], {cwd: dir})
    assert.equal(stdout, 'busybox: OK\n')
    assert.deepEqual(await readFile(path.join(dir, 'busybox')), binary)
    assert.deepEqual(await listFiles(dir), ['busybox', 'busybox.sha256'])
    await writeFile(path.join(dir, 'busybox'), Buffer.concat([binary, Buffer.from('x')]))
    await assert.rejects(run('sha256sum', ['-c', 'busybox.sha256'], {cwd: dir}))
  })
})

describe('GCS endpoint configuration', () => {
  it('honours STORAGE_EMULATOR_HOST as a bare host:port or with /storage/v1, for JSON calls and uploads alike', async () => {
    const server = await gcsServer()
    const bucket = uniqueBucket('emulator')
    await server.createBucket(bucket)
    const saved = {custom: process.env.E2B_ARTIFACTS_GCS_ENDPOINT, emulator: process.env.STORAGE_EMULATOR_HOST}
    const hostPort = new URL(server.endpoint).host
    try {
      delete process.env.E2B_ARTIFACTS_GCS_ENDPOINT
      for (const [i, value] of [hostPort, `${server.endpoint}/storage/v1/`].entries()) {
        process.env.STORAGE_EMULATOR_HOST = value
        const store = await openStore(parseLocation(`gs://${bucket}`))
        const data = randomBytes(100)
        await store.write(`emulator/${i}`, data, absent(data))
        assert.deepEqual(await readAll(store, `emulator/${i}`), data)
      }
    } finally {
      if (saved.custom === undefined) delete process.env.E2B_ARTIFACTS_GCS_ENDPOINT
      else process.env.E2B_ARTIFACTS_GCS_ENDPOINT = saved.custom
      if (saved.emulator === undefined) delete process.env.STORAGE_EMULATOR_HOST
      else process.env.STORAGE_EMULATOR_HOST = saved.emulator
    }
  })
})
