/**
 * Objects put into fake-gcs-server the way upstream's own tooling leaves
 * them: a plain media upload (`gsutil cp`, or `gsutil cp -Z` with
 * `contentEncoding: gzip`), with no sha256 metadata, so that only GCS's own
 * md5 and crc32c describe them. Seeding through the tool's store would add
 * sha256 metadata and hide exactly the cases upstream's buckets present.
 */
import {gzipSync} from 'node:zlib'

import type {GcsServer} from './cloud-servers.js'

export interface RawPutOptions {
  /** Store the body gzip-compressed with Content-Encoding: gzip, as `gsutil cp -Z` does. */
  readonly gzip?: boolean
  readonly contentType?: string
}

export async function putRawObject(server: GcsServer, bucket: string, name: string, body: Buffer | string, options: RawPutOptions = {}): Promise<void> {
  const query = new URLSearchParams({name, uploadType: 'media', ...(options.gzip ? {contentEncoding: 'gzip'} : {})})
  const data = options.gzip ? gzipSync(body) : Buffer.from(body)
  const response = await fetch(`${server.endpoint}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?${query}`, {
    body: data,
    headers: {'content-type': options.contentType ?? 'application/octet-stream'},
    method: 'POST',
  })
  if (!response.ok) throw new Error(`putting gs://${bucket}/${name}: HTTP ${response.status} ${await response.text()}`)
}

/** Creates the bucket unless it exists (CI may share one fake-gcs-server between runs). */
export async function ensureBucket(server: GcsServer, bucket: string): Promise<void> {
  try {
    await server.createBucket(bucket)
  } catch (error) {
    if (!/HTTP 409/.test(String(error))) throw error
  }
}
