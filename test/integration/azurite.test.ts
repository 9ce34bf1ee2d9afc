/**
 * The Azurite test infrastructure: a container round trip with the real
 * @azure/storage-blob SDK and nothing but the connection string tests hand
 * to the CLI.
 */
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {describe, it} from 'node:test'

import {AZURITE_ACCOUNT, azuriteServer} from '../support/azurite.js'
import {uniqueBucket} from '../support/cloud-servers.js'

describe('Azurite', () => {
  it('round-trips a blob: create container, upload, list, download', async () => {
    const azurite = await azuriteServer()
    assert.equal(azurite.account, AZURITE_ACCOUNT)
    assert.match(azurite.blobEndpoint, /^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/)
    assert.deepEqual(Object.keys(azurite.env), ['AZURE_STORAGE_CONNECTION_STRING'])

    const container = uniqueBucket('fc-busybox')
    await azurite.createContainer(container)
    await assert.rejects(azurite.createContainer(container), /already exists/i)

    const {BlobServiceClient} = await import('@azure/storage-blob')
    const client = BlobServiceClient.fromConnectionString(azurite.env.AZURE_STORAGE_CONNECTION_STRING!).getContainerClient(container)
    const body = randomBytes(300 * 1024)
    const md5 = createHash('md5').update(body).digest()
    const blob = client.getBlockBlobClient('1.36.1/amd64/busybox')
    await blob.uploadData(body, {blobHTTPHeaders: {blobContentMD5: md5}, metadata: {sha256: createHash('sha256').update(body).digest('hex')}})
    await client.getBlockBlobClient('1.36.1/amd64/busybox.sha256').upload('x\n', 2)

    const names: string[] = []
    for await (const item of client.listBlobsFlat({prefix: '1.36.1/'})) names.push(item.name)
    assert.deepEqual(names.sort(), ['1.36.1/amd64/busybox', '1.36.1/amd64/busybox.sha256'])

    const props = await blob.getProperties()
    assert.deepEqual(Buffer.from(props.contentMD5 ?? []), md5)
    assert.equal(props.metadata?.sha256, createHash('sha256').update(body).digest('hex'))
    assert.deepEqual(await blob.downloadToBuffer(), body)
    const range = await blob.download(10, 20)
    assert.equal(range.contentLength, 20)
  })
})
