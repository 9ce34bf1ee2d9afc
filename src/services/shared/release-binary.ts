import {tmpdir} from 'node:os'
import path from 'node:path'

import type {Arch} from '../../core/catalog.js'
import {IntegrityError} from '../../core/errors.js'
import {discard} from '../../core/temp-files.js'
import {type BinaryCheck, type BinaryFacts, checkBinary, versionMarker} from '../../integrity/binary-checks.js'
import {type RunOutcome, runCheck} from '../../integrity/run-check.js'
import {type StagedFile, stageObject} from '../../stores/ops/stage.js'
import {type DigestSource, type SourceBinary, vouches} from './release-source.js'

/** A source binary that passed every check, staged in a temp file. */
export interface VerifiedBinary {
  readonly arch: Arch
  readonly source: string
  readonly sha256: string
  readonly size: number
  /** Who vouched for the digest, independently of the bytes downloaded; empty when nothing did. */
  readonly verifiedBy: readonly DigestSource[]
  /** Empty for a file that is not checked as a binary (a companion file). */
  readonly checks: readonly BinaryCheck[]
  readonly run: RunOutcome
}

export interface StagedRelease extends VerifiedBinary {
  /** The temp file, in the OS temp dir; the caller discards it. */
  readonly file: StagedFile
}

export interface ReleaseCheckOptions {
  /** Names the temp file, under the OS temp dir. */
  readonly label: string
  /** The artifact, version and arch the file must be; undefined for a file checked by its digest only (a companion). */
  readonly facts?: BinaryFacts
  readonly arch: Arch
  /** What failing means, for messages: "not published", "not locked". */
  readonly consequence: string
  /** Also check the bytes in transit against the service's own checksum of the object, when it reports one. */
  readonly checkService?: boolean
  /** Also compute the MD5 while staging (upload records it where a store checks one). */
  readonly md5?: boolean
  /** Called, after the digests were checked, when nothing independent vouched for them. */
  readonly onUnvouched?: (file: StagedFile) => void
  readonly onRetry?: (message: string) => void
  readonly onWarning?: (message: string) => void
}

/**
 * Compares the staged digest with every independent one, and with every
 * claim (client-written metadata): any disagreement stops this file. Returns
 * who vouched for it; claims never do.
 */
export function checkDigests(file: StagedFile, binary: SourceBinary, consequence: string): DigestSource[] {
  for (const expected of binary.expected) {
    if (file.sha256 !== expected.sha256) {
      throw new IntegrityError(`${binary.where} has sha256 ${file.sha256}, but ${expected.where} says ${expected.sha256}: ${consequence}`)
    }
  }
  const verifiedBy = binary.expected.map((expected) => expected.by).filter(vouches)
  if (file.serviceVerified && !verifiedBy.includes('service-checksum')) verifiedBy.push('service-checksum')
  return verifiedBy
}

/**
 * What `upload` and `lock` both do to a release binary before they trust it:
 * stage it (hashing on the way), check it against every independent digest,
 * then check the ELF machine, static linking and the version string, and run
 * it in a sandbox where it can. The temp file is removed on failure.
 */
export async function verifyReleaseBinary(binary: SourceBinary, options: ReleaseCheckOptions): Promise<StagedRelease> {
  // The temp file lives in the OS temp dir (TMPDIR): nothing is staged next to the source or the destination.
  const file = await stageObject(binary.store, binary.key, path.join(tmpdir(), options.label), {
    checkService: options.checkService ? () => true : undefined,
    md5: options.md5,
    onRetry: options.onRetry,
    // The version banner is looked for while the bytes stream in, not in a second read.
    scanFor: options.facts && versionMarker(options.facts.artifact, options.facts.version),
  })
  try {
    const verifiedBy = checkDigests(file, binary, options.consequence)
    if (verifiedBy.length === 0) options.onUnvouched?.(file)
    let checks: BinaryCheck[] = []
    let run: RunOutcome = {ran: false, reason: 'not checked as a binary'}
    if (options.facts) {
      checks = await checkBinary(file, options.facts, binary.where)
      run = await runCheck(file.path, options.facts, binary.where)
      if (!run.ran && run.warning) options.onWarning?.(run.warning)
    }
    return {arch: options.arch, checks, file, run, sha256: file.sha256, size: file.size, source: binary.where, verifiedBy}
  } catch (error) {
    await discard(file.path)
    throw error
  }
}
