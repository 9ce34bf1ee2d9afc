/**
 * The one policy for "is this the same content", used by upload, copy and
 * verify: from what two objects' metadata (or a rehash) says about them.
 */

export type Digest = 'sha256' | 'crc32c' | 'md5'

/**
 * What is known about some content without reading it. Stores' ObjectInfo is
 * one. Evidence and claims are kept apart: `sha256`, `md5` and `crc32c` were
 * computed from the bytes (by the service that stores them, by GitHub, or by
 * this tool), while `metadataSha256` is what some client wrote next to the
 * object, which proves nothing about its bytes.
 */
export interface ContentFacts {
  readonly size: number
  /** Lowercase hex sha256 computed from the content: an S3 full-object ChecksumSHA256, GitHub's asset digest, or a hash taken here. */
  readonly sha256?: string
  /** Lowercase hex `sha256` metadata written by a client (x-goog-meta-sha256, x-amz-meta-sha256): a claim, never evidence. */
  readonly metadataSha256?: string
  /** Base64, as the service reports it. */
  readonly md5?: string
  /** Base64 big-endian, as the service reports it. */
  readonly crc32c?: string
}

export type Comparison =
  | {readonly verdict: 'same'; readonly by: readonly string[]}
  | {readonly verdict: 'different'; readonly by: string}
  | {readonly verdict: 'unknown'}

/** The digests computed from content, strongest first. */
const DIGESTS: readonly Digest[] = ['sha256', 'crc32c', 'md5']

/** The sha256 some content is expected to have: a computed one, else a claimed one. */
export function expectedSha256(facts: ContentFacts): string | undefined {
  return facts.sha256 ?? facts.metadataSha256
}

/**
 * Whether a stored object holds the `expected` content, by what is known
 * about both. Only a digest computed from the stored bytes (the service's
 * checksum, or a rehash) can show it the same; each one must agree with what
 * is expected, so a service checksum that disagrees always wins, whatever the
 * stored object's sha256 metadata says. That metadata can show the object
 * different, never the same: a zero-filled object tagged with the right
 * `sha256` is 'unknown' (callers then rehash it), not 'same'. Different sizes
 * prove different content; equal sizes prove nothing.
 */
export function compareContent(stored: ContentFacts, expected: ContentFacts): Comparison {
  if (stored.size !== expected.size) return {by: 'size', verdict: 'different'}
  const wanted = {...expected, sha256: expectedSha256(expected)}
  const agreeing: Digest[] = []
  for (const digest of DIGESTS) {
    const have = stored[digest]
    const want = wanted[digest]
    if (have === undefined || want === undefined) continue
    if (have !== want) return {by: digest, verdict: 'different'}
    agreeing.push(digest)
  }
  if (agreeing.length > 0) return {by: agreeing, verdict: 'same'}
  if (stored.metadataSha256 !== undefined && wanted.sha256 !== undefined && stored.metadataSha256 !== wanted.sha256) {
    return {by: 'sha256 metadata', verdict: 'different'}
  }
  return {verdict: 'unknown'}
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
