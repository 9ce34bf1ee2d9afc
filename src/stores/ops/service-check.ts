import {IntegrityError} from '../../core/errors.js'
import type {HashingStream} from '../../integrity/hash.js'
import type {ServiceChecksums} from '../store.js'

export type ServiceDigest = 'sha256' | 'crc32c' | 'md5'

/**
 * Which of the service's checksums to verify a download against: sha256
 * first (it is computed anyway), then the cheaper of the others to compute
 * here (CRC32C runs faster than MD5 in this process).
 */
export function chooseServiceDigest(checksums: ServiceChecksums | undefined): ServiceDigest | undefined {
  if (!checksums) return undefined
  return (['sha256', 'crc32c', 'md5'] as const).find((digest) => checksums[digest] !== undefined)
}

/** What a HashingStream must compute for `digest` (sha256 it always does). */
export function hashingFor(digest: ServiceDigest | undefined): {crc32c?: boolean; md5?: boolean} {
  return digest === 'crc32c' ? {crc32c: true} : digest === 'md5' ? {md5: true} : {}
}

/**
 * Checks bytes that went through `hashing` against the service's checksum;
 * returns what vouched for them ("md5 from x-goog-hash"), or undefined when
 * the check was dropped part way (see HashingStream's `extrasWanted`). A mismatch is an
 * integrity failure: the service stores one thing and sent another.
 */
export function checkServiceDigest(hashing: HashingStream, checksums: ServiceChecksums, digest: ServiceDigest, where: string): string | undefined {
  const expected = checksums[digest]!
  const actual = digest === 'sha256' ? hashing.digest() : digest === 'md5' ? hashing.md5Base64() : hashing.crc32cBase64()
  // Dropped part way (the caller stopped wanting it): nothing was checked.
  if (actual === undefined) return undefined
  if (actual !== expected) {
    throw new IntegrityError(`${where}: the bytes received have ${digest} ${actual}, but the service's own checksum (${checksums.source}) says ${expected}: refused`)
  }
  return `${digest} from ${checksums.source}`
}
