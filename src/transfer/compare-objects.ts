import type {ObjectInfo} from '../stores/store.js'

export type Digest = 'sha256' | 'crc32c' | 'md5'

/** What two objects' metadata says about their content. */
export type Comparison =
  | {readonly verdict: 'same'; readonly by: readonly Digest[]}
  | {readonly verdict: 'different'; readonly by: Digest | 'size'}
  | {readonly verdict: 'unknown'}

/** The digests the Store interface may report, strongest first. */
const DIGESTS: readonly Digest[] = ['sha256', 'crc32c', 'md5']

/**
 * Compares two objects by every digest both sides report. They are the same
 * only when at least one digest is shared and none disagrees: a sha256
 * metadata value is written by a client, while crc32c and md5 are computed by
 * the service, so a disagreeing service checksum overrides agreeing metadata.
 * Different sizes prove different content; equal sizes prove nothing, so
 * without a shared digest the answer is 'unknown', never 'same'.
 */
export function compareObjects(a: Pick<ObjectInfo, Digest | 'size'>, b: Pick<ObjectInfo, Digest | 'size'>): Comparison {
  if (a.size !== b.size) return {by: 'size', verdict: 'different'}
  const agreeing: Digest[] = []
  for (const digest of DIGESTS) {
    const left = a[digest]
    const right = b[digest]
    if (left === undefined || right === undefined) continue
    if (left !== right) return {by: digest, verdict: 'different'}
    agreeing.push(digest)
  }
  return agreeing.length > 0 ? {by: agreeing, verdict: 'same'} : {verdict: 'unknown'}
}

/** A quoted 32-hex-digit ETag: what S3 reports for an object stored in one PutObject. */
const PLAIN_ETAG = /^"?([0-9a-f]{32})"?$/

/**
 * The MD5 an S3 ETag stands for, when it looks like one. ETags of single-part
 * uploads are the MD5 of the content, but under SSE-KMS or SSE-C they are not,
 * so this can confirm that two objects are the same and never prove that they
 * differ.
 */
function md5FromEtag(info: ObjectInfo, provider: string): string | undefined {
  if (provider !== 's3' || info.version === undefined) return undefined
  const hex = PLAIN_ETAG.exec(info.version)?.[1]
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('base64')
}

/**
 * Whether the listings alone show two objects the same through an S3 ETag
 * (S3 listings carry no other digest). Used only to skip work: a mismatch
 * means "look closer", never "different".
 */
export function sameByEtag(a: ObjectInfo, aProvider: string, b: ObjectInfo, bProvider: string): boolean {
  if (a.size !== b.size) return false
  const left = a.md5 ?? md5FromEtag(a, aProvider)
  const right = b.md5 ?? md5FromEtag(b, bProvider)
  return left !== undefined && left === right
}
