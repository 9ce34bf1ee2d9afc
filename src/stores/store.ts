import type {Readable} from 'node:stream'

import type {ListedFacts} from '../integrity/content-identity.js'

/**
 * What a store knows about one object without reading its content: its size
 * and digests, with the ones the service computed (`sha256`, `md5`, `crc32c`)
 * kept apart from the `sha256` metadata a client wrote (`metadataSha256`),
 * and an S3 ETag.
 */
export interface ObjectInfo extends ListedFacts {
  /** Key relative to the store's root. */
  readonly key: string
  /** Opaque version token (GCS generation, S3 ETag) for preconditions. */
  readonly version?: string
  /**
   * `gzip` for an object stored gzip-encoded (`gsutil cp -Z`): reads decode
   * it, but `size`, `md5` and `crc32c` describe the stored compressed bytes,
   * so they say nothing about the content and compare with nothing decoded.
   */
  readonly encoding?: 'gzip'
}

/**
 * A listed name that is not content: an unsafe key (see core/keys), a
 * symbolic link, or anything else that is not a regular object. It is never
 * read, written or turned into a path; callers report it as an integrity finding.
 */
export interface RefusedEntry {
  /** The name as listed, relative to the store's root; print it with displayKey. */
  readonly key: string
  /** Why it was refused, e.g. "it is a symbolic link". */
  readonly refused: string
}

export function isRefused(entry: ObjectInfo | RefusedEntry): entry is RefusedEntry {
  return 'refused' in entry
}

/**
 * The checksums the service computed for the whole object being read, as it
 * reported them with the content: what a download without a sidecar is
 * verified against. Absent for ranged reads and for encoded (gzip) bodies.
 */
export interface ServiceChecksums {
  /** Lowercase hex (S3 full-object ChecksumSHA256). */
  readonly sha256?: string
  /** Base64 (GCS md5Hash or x-goog-hash md5, a single-part S3 ETag). */
  readonly md5?: string
  /** Base64 big-endian (GCS crc32c, S3 ChecksumCRC32C). */
  readonly crc32c?: string
  /** Where each came from, for messages: "x-goog-hash", "ETag", ... */
  readonly source: string
}

export interface ReadOptions {
  readonly signal?: AbortSignal
  /** Refuse bodies larger than this (sidecars are read with 4 KiB). */
  readonly maxBytes?: number
  /**
   * Read only the first N bytes (a ranged read): for headers, so that nobody
   * abandons a download half way, which poisons pooled connections.
   */
  readonly firstBytes?: number
}

export interface ObjectBody {
  readonly body: Readable
  /** The length the server announced, when it did. */
  readonly size?: number
  /** The service's own checksums of the object, when it reports any. */
  readonly checksums?: ServiceChecksums
  /**
   * A check the store applies to the bytes itself as they flow, naming what
   * vouched for them ("md5 of the stored gzip bytes"): the body fails before
   * it ends when the check does, so a body read to its end passed it.
   */
  readonly verifiedInTransit?: string
}

export interface WriteOptions {
  /** Exact content length. */
  readonly size: number
  /** Lowercase hex sha256 of the content: stored as `sha256` metadata and, where supported, checked by the server. */
  readonly sha256: string
  /**
   * `absent`: fail with ConflictError if the key exists (GCS ifGenerationMatch=0, S3 If-None-Match: *).
   * `any`: overwrite (used with --force).
   */
  readonly precondition: 'absent' | 'any'
  readonly contentType?: string
  /**
   * The content's base64 MD5 as the source's service computed it (never a
   * client's claim): a store whose service checks a declared MD5 (Azure's Put
   * Blob) can then send a stream as it arrives instead of holding it first.
   */
  readonly md5?: string
  readonly signal?: AbortSignal
  /** Where files have modes (file://): 0755 when true, else 0644. Buckets ignore it. */
  readonly executable?: boolean
}

/**
 * One place artifacts live. Keys are relative to the store's root, which is the
 * location's path; errors are the typed errors from core/errors.
 */
export interface Store {
  /** Safe to print: never carries credentials. */
  readonly display: string
  /** Provider family for deciding whether a server-side copy is possible. */
  readonly provider: 'azure' | 'file' | 'gcs' | 'github' | 'http' | 's3'

  /**
   * Metadata of one object, or undefined when it does not exist. Being one
   * idempotent request, it retries transient failures itself; for the other
   * methods the caller decides (a stream, once consumed, cannot be replayed).
   */
  stat(key: string, options?: ReadOptions): Promise<ObjectInfo | undefined>
  /** Streams an object. Throws NotFoundError when absent. */
  read(key: string, options?: ReadOptions): Promise<ObjectBody>
  /** Writes an object from a stream or buffer, as one atomic publish. Read-only stores throw UsageError. */
  write(key: string, body: Buffer | Readable, options: WriteOptions): Promise<ObjectInfo>
  /**
   * Every object under a key prefix (relative to the root), in no particular
   * order, and every name there that is not content (a link, an unsafe key
   * the store can tell). Callers list through stores/ops/list-all, which also
   * refuses every unsafe key.
   */
  list(prefix: string, options?: ReadOptions): AsyncIterable<ObjectInfo | RefusedEntry>
  /** Removes an object; absent objects are not an error. */
  remove(key: string): Promise<void>
  /**
   * Copies `sourceKey` of `source` to `key` without passing bytes through this
   * host, when both are on the same provider. Returns undefined when it cannot.
   */
  copyWithin?(source: Store, sourceKey: string, key: string, options: WriteOptions): Promise<ObjectInfo | undefined>
  /** Releases connections so that the process can exit promptly. */
  close?(): Promise<void>
}
