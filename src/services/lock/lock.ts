import {statSync} from 'node:fs'
import path from 'node:path'

import {Limiter} from '../../core/concurrency.js'
import {ExitCode, IntegrityError, ReportedFailure, UsageError} from '../../core/errors.js'
import {combineFailures} from '../../core/failures.js'
import {discard} from '../../core/temp-files.js'
import type {BinaryCheck} from '../../integrity/binary-checks.js'
import {LOCK_FILE_NAME, type LockEntry, type LockFile, type LockSlot, compareSlots, describeSlot, findEntry, withEntries} from '../../integrity/lock-file.js'
import type {RunOutcome} from '../../integrity/run-check.js'
import {runService} from '../runner.js'
import {type LockPath, chooseLockPath, readLockFile} from '../shared/lock-file-io.js'
import {writeLockFile} from '../shared/lock-file-write.js'
import {type VerifiedBinary, verifyReleaseBinary} from '../shared/release-binary.js'
import type {DigestSource} from '../shared/release-source.js'
import type {LockRequest} from './request.js'
import {type LockSource, type LockTarget, openLockSource} from './sources.js'

/** Files downloaded and checked at the same time. */
const CONCURRENCY = 4

/**
 * What happened to one file: `added` to the lock, `unchanged` (the lock
 * already pins this digest; the entry is kept as it was), `updated` (re-pinned
 * with --update); with --check, `missing` from the lock or `differs` from it.
 */
export type LockStatus = 'added' | 'unchanged' | 'updated' | 'missing' | 'differs'

export interface LockedFile extends LockSlot {
  readonly status: LockStatus
  /** What the source holds, verified. */
  readonly sha256: string
  readonly size: number
  readonly source: string
  readonly verifiedBy: readonly DigestSource[]
  readonly checks: readonly BinaryCheck[]
  readonly run: RunOutcome
  /** The lock's entry for this slot before the run, when it had one. */
  readonly locked?: Pick<LockEntry, 'lockedAt' | 'sha256' | 'size'>
}

export interface LockResult {
  readonly artifact: string
  readonly version: string
  readonly from: string
  readonly lockFile: string
  readonly check: boolean
  /** Whether the lock file was written (only when an entry was added or updated). */
  readonly written: boolean
  readonly files: readonly LockedFile[]
}

export interface LockEvents {
  onRetry?(message: string): void
  onWarning?(message: string): void
  /** Each file, in the lock's order, once every file has been checked; `lockFile` as shown in messages. */
  onFile?(file: LockedFile, lockFile: string): void
}

interface Verified {
  readonly target: LockTarget
  readonly binary: VerifiedBinary
}

/** Downloads one file once, checks it against every source that records its digest and, for the artifact's own file, runs upload's checks. */
async function verifyTarget(request: LockRequest, source: LockSource, target: LockTarget, events: LockEvents): Promise<Verified> {
  const {slot} = target
  const staged = await verifyReleaseBinary(target.binary, {
    arch: slot.arch,
    checkService: source.checkService,
    consequence: 'not locked',
    facts: target.main ? {arch: slot.arch, artifact: request.artifact, version: request.version} : undefined,
    label: `e2b-artifacts-lock-${slot.artifact}-${slot.version}-${slot.arch}`,
    onRetry: events.onRetry,
    onUnvouched: (file) => {
      const unvouched = `${target.binary.where} has no sidecar and the service reports no checksum of it`
      if (!source.local) throw new IntegrityError(`${unvouched}, so nothing independent vouches for the bytes received: not locked; publish a .sha256 sidecar next to it`)
      events.onWarning?.(`${unvouched}: nothing independent vouches for its digest, so the lock records the sha256 computed here (${file.sha256})`)
    },
    onWarning: events.onWarning,
  })
  await discard(staged.file.path)
  const {file: _file, ...binary} = staged
  return {binary, target}
}

/** Every file of every arch, verified; any failure fails the whole run before anything is written. */
async function verifyAll(request: LockRequest, source: LockSource, events: LockEvents): Promise<Verified[]> {
  const located = await Promise.allSettled(request.arches.map((arch) => source.targets(arch)))
  const failures: unknown[] = located.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []))
  const targets = located.flatMap((outcome) => (outcome.status === 'fulfilled' ? outcome.value : []))
  const limiter = new Limiter(CONCURRENCY)
  const settled = await Promise.allSettled(targets.map((target) => limiter.run(() => verifyTarget(request, source, target, events))))
  for (const outcome of settled) if (outcome.status === 'rejected') failures.push(outcome.reason)
  if (failures.length > 0) throw combineFailures(failures, `${failures.length} of the files to lock failed their checks; the lock was not changed`)
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<Verified>).value).sort((a, b) => compareSlots(a.target.slot, b.target.slot))
}

function statusOf(request: LockRequest, entry: LockEntry | undefined, binary: VerifiedBinary): LockStatus {
  if (!entry) return request.check ? 'missing' : 'added'
  if (entry.sha256 === binary.sha256 && entry.size === binary.size) return 'unchanged'
  return request.check ? 'differs' : request.update ? 'updated' : 'differs'
}

function pins(lockFile: string, file: LockedFile): string {
  return `${lockFile} pins ${describeSlot(file)} to sha256 ${file.locked!.sha256} (${file.locked!.size} bytes), but ${file.source} has ${file.sha256} (${file.size} bytes)`
}

function lockCommand(request: LockRequest): string {
  return `e2b-artifacts lock ${request.artifact.name} --version ${request.version}`
}

/** Why `--check` fails: the missing entries and the disagreements, in one line. */
function checkFailure(request: LockRequest, lockFile: string, files: readonly LockedFile[]): string | undefined {
  const missing = files.filter((file) => file.status === 'missing')
  const differs = files.filter((file) => file.status === 'differs')
  if (missing.length === 0 && differs.length === 0) return undefined
  const problems: string[] = []
  if (missing.length > 0) problems.push(`${lockFile} has no entry for ${missing.map((file) => describeSlot(file)).join(', ')}`)
  for (const file of differs) problems.push(pins(lockFile, file))
  const next = [missing.length > 0 ? `add the missing entries with ${lockCommand(request)}` : '', differs.length > 0 ? 're-pin a changed build only after review, with --update' : '']
  return `${problems.join('; ')}: ${next.filter(Boolean).join('; ')}`
}

/**
 * The lock file to write: the one found or named, else e2b-artifacts.lock in
 * the working directory. Its directory must exist: found before any download.
 */
function lockFileFor(request: LockRequest): LockPath {
  const lockPath = chooseLockPath(request.lockFlags, {discover: true}) ?? {display: LOCK_FILE_NAME, path: path.resolve(LOCK_FILE_NAME)}
  const dir = path.dirname(lockPath.path)
  if (!statSync(dir, {throwIfNoEntry: false})?.isDirectory()) throw new UsageError(`cannot write ${lockPath.display}: ${path.dirname(lockPath.display)} is not a directory; create it, or name another lock file with --lock`)
  return lockPath
}

/**
 * `lock`: pins the digest of every requested arch of one version, after
 * checking it as `upload` does (every independent digest agrees; the ELF
 * machine, static linking and the version string hold). It adds new entries,
 * keeps unchanged ones exactly as they were, and never re-pins a changed one
 * without --update. Any failure writes nothing. With --check it compares and
 * writes nothing at all.
 */
export function lockArtifact(request: LockRequest, events: LockEvents = {}): Promise<LockResult> {
  return runService(() => lockAll(request, events))
}

async function lockAll(request: LockRequest, events: LockEvents): Promise<LockResult> {
  const lockPath = lockFileFor(request)
  const existing: LockFile = readLockFile(lockPath, {mayBeMissing: true}) ?? {entries: []}
  const source = await openLockSource(request, path.dirname(lockPath.path), events.onRetry)
  let verified: Verified[]
  try {
    verified = await verifyAll(request, source, events)
  } finally {
    await source.close()
  }
  const lockedAt = new Date().toISOString()
  const files = verified.map(({binary, target}): LockedFile => {
    const entry = findEntry(existing, target.slot)
    return {
      ...target.slot,
      checks: binary.checks,
      locked: entry && {lockedAt: entry.lockedAt, sha256: entry.sha256, size: entry.size},
      run: binary.run,
      sha256: binary.sha256,
      size: binary.size,
      source: target.source,
      status: statusOf(request, entry, binary),
      verifiedBy: binary.verifiedBy,
    }
  })
  const result = (written: boolean): LockResult => ({
    artifact: request.artifact.name,
    check: request.check,
    files,
    from: source.display,
    lockFile: lockPath.display,
    version: request.version,
    written,
  })

  if (request.check) {
    for (const file of files) events.onFile?.(file, lockPath.display)
    const failure = checkFailure(request, lockPath.display, files)
    if (failure) throw new ReportedFailure(failure, ExitCode.integrity, result(false))
    return result(false)
  }
  const differs = files.filter((file) => file.status === 'differs')
  if (differs.length > 0) {
    throw new IntegrityError(`${differs.map((file) => pins(lockPath.display, file)).join('; ')}: the lock was not changed; if the new build is intended, review it and run again with --update`)
  }
  for (const file of files) events.onFile?.(file, lockPath.display)
  const changed = files.filter((file) => file.status === 'added' || file.status === 'updated')
  if (changed.length === 0) return result(false)
  const entries = changed.map((file): LockEntry => ({arch: file.arch, artifact: file.artifact, file: file.file, lockedAt, sha256: file.sha256, size: file.size, source: file.source, version: file.version}))
  await writeLockFile(lockPath, withEntries(existing, entries))
  return result(true)
}
