/**
 * The one policy for "is this the same content", used by upload, copy and
 * verify: from what two objects' metadata (or a rehash) says about them.
 */

export type Digest = 'sha256' | 'crc32c' | 'md5'

/** What is known about some content without reading it. Stores' ObjectInfo is one. */
export interface ContentFacts {
  readonly size: number
  /** Lowercase hex. */
  readonly sha256?: string
  /** Base64, as the service reports it. */
  readonly md5?: string
  /** Base64 big-endian, as the service reports it. */
  readonly crc32c?: string
}

export type Comparison =
  | {readonly verdict: 'same'; readonly by: readonly string[]}
  | {readonly verdict: 'different'; readonly by: string}
  | {readonly verdict: 'unknown'}

/** The digests ContentFacts may carry, strongest first. */
const DIGESTS: readonly Digest[] = ['sha256', 'crc32c', 'md5']

/**
 * Compares two objects by every digest both sides report. They are the same
 * only when at least one digest is shared and none disagrees: a sha256
 * metadata value is written by a client, while crc32c and md5 are computed by
 * the service, so a disagreeing service checksum overrides agreeing metadata.
 * Different sizes prove different content; equal sizes prove nothing, so
 * without a shared digest the answer is 'unknown', never 'same'.
 */
export function compareContent(a: ContentFacts, b: ContentFacts): Comparison {
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
export function md5FromEtag(etag: string | undefined): string | undefined {
  const hex = etag === undefined ? undefined : PLAIN_ETAG.exec(etag)?.[1]
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('base64')
}

/** An object's MD5 as far as its listing shows it: the service's md5, or for S3 a plain ETag. */
export interface ListedFacts extends ContentFacts {
  /** The S3 ETag, when the object lives in S3. */
  readonly etag?: string
}

/**
 * Whether the listings alone show two objects the same through an MD5 (S3
 * listings carry no other digest). Used only to skip work: a mismatch means
 * "look closer", never "different".
 */
export function sameByMd5(a: ListedFacts, b: ListedFacts): boolean {
  if (a.size !== b.size) return false
  const left = a.md5 ?? md5FromEtag(a.etag)
  const right = b.md5 ?? md5FromEtag(b.etag)
  return left !== undefined && left === right
}
