import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {Readable} from 'node:stream'
import {describe, it} from 'node:test'
import {gzipSync} from 'node:zlib'

import {IntegrityError, TransientError} from '../../src/core/errors.js'
import {type GzipBodyOptions, decodeGzipBody} from '../../src/net/gzip-body.js'

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('base64')
const content = randomBytes(100_000)
const stored = gzipSync(content)

async function decode(data: Buffer, options: Partial<GzipBodyOptions> = {}): Promise<Buffer> {
  const body = Readable.from([data.subarray(0, 700), data.subarray(700)])
  const chunks: Buffer[] = []
  for await (const chunk of await decodeGzipBody(body, {storedBytes: data.length, storedMd5: md5(data), where: 'gs://b/k', ...options})) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

describe('decodeGzipBody', () => {
  it('decodes, checking the stored length and md5', async () => {
    assert.deepEqual(await decode(stored), content)
  })

  it('calls a short or changed transfer transient, so that it is retried', async () => {
    await assert.rejects(decode(stored.subarray(0, 5000), {storedBytes: stored.length, storedMd5: md5(stored)}), (error: unknown) => error instanceof TransientError && /ended after 5000 of \d+ bytes \(truncated\)/.test(error.message))
    const flipped = Buffer.from(stored)
    flipped[stored.length >> 1] = (flipped[stored.length >> 1] ?? 0) ^ 0xff
    await assert.rejects(decode(flipped, {storedMd5: md5(stored)}), (error: unknown) => error instanceof TransientError && /gzip-encoded bytes received have md5 .*, but the service says/.test(error.message))
  })

  it('calls intact bytes that do not decode an integrity error that names the encoding', async () => {
    await assert.rejects(decode(randomBytes(2000)), (error: unknown) => error instanceof IntegrityError && /is stored gzip-encoded \(Content-Encoding: gzip.*arrived intact \(its md5 matches\) but does not decode as gzip/.test(error.message))
  })

  it('decodes the first bytes of a ranged read without its trailer', async () => {
    const head = await decode(stored.subarray(0, 4096), {partial: true, storedBytes: undefined, storedMd5: undefined})
    assert.ok(head.length > 0)
    assert.deepEqual(head, content.subarray(0, head.length))
  })
})
