import {type Stats, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {lockFileSetting} from '../../core/config.js'
import {UsageError, fileSystemError} from '../../core/errors.js'
import {describeKind} from '../../core/file-kind.js'
import {LOCK_FILE_NAME, LOCK_MAX_BYTES, type LockFile, parseLockFile} from '../../integrity/lock-file.js'

/**
 * Which lock file a command uses, and reading it: synchronously, with
 * node:fs only, because the no-op `fetch` runs through here on every `make`.
 * Writing is lock-file-write.ts, which only the `lock` command loads.
 */

/** The lock flags every command that reads a lock has. */
export interface LockFlags {
  /** `--lock PATH`. */
  readonly lock?: string
  /** `--no-lock` (fetch only). */
  readonly noLock?: boolean
}

export interface LockPath {
  readonly path: string
  /** As the user gave it, or relative to the working directory when found there or above: for messages. */
  readonly display: string
  /** What named it (`--lock`, `E2B_ARTIFACTS_LOCK`), or undefined when it was found by looking. */
  readonly namedBy?: string
}

/** Usage errors among the lock flags, found before anything is read. */
export function checkLockFlags(flags: LockFlags): void {
  if (flags.lock !== undefined && flags.lock.trim() === '') throw new UsageError('--lock must not be empty: give the path of the lock file')
  if (flags.lock !== undefined && flags.noLock) throw new UsageError('--lock and --no-lock contradict each other: drop one')
}

/** e2b-artifacts.lock in `dir` or the nearest directory above it that has one. */
function findUpwards(dir: string): string | undefined {
  for (let current = dir; ; current = path.dirname(current)) {
    const candidate = path.join(current, LOCK_FILE_NAME)
    try {
      if (statSync(candidate, {throwIfNoEntry: false})) return candidate
    } catch {
      // A directory we may not look into: go on upwards.
    }
    if (path.dirname(current) === current) return undefined
  }
}

/**
 * The lock file: `--lock PATH`, else E2B_ARTIFACTS_LOCK, else (with
 * `discover`) e2b-artifacts.lock in the working directory or the nearest one
 * above it. Undefined with `--no-lock`, or when nothing names or holds one.
 */
export function chooseLockPath(flags: LockFlags, options: {readonly discover: boolean}, cwd = process.cwd()): LockPath | undefined {
  checkLockFlags(flags)
  if (flags.noLock) return undefined
  if (flags.lock !== undefined) return {display: flags.lock, namedBy: '--lock', path: path.resolve(cwd, flags.lock)}
  const setting = lockFileSetting()
  if (setting) return {display: setting.value, namedBy: setting.name, path: path.resolve(cwd, setting.value)}
  if (!options.discover) return undefined
  const found = findUpwards(cwd)
  return found ? {display: path.relative(cwd, found) || LOCK_FILE_NAME, path: found} : undefined
}

function named(lockPath: LockPath): string {
  return lockPath.namedBy === undefined ? lockPath.display : lockPath.namedBy === '--lock' ? `--lock '${lockPath.display}'` : `${lockPath.namedBy}='${lockPath.display}'`
}

/**
 * Reads and parses the lock file; undefined when it does not exist and
 * `mayBeMissing` (the `lock` command creates it). Anything there that is not
 * a regular file is a usage error found by a stat, before it is opened (a
 * FIFO would block the read forever); so is a malformed file (naming the line
 * or the entry) and, unless `mayBeMissing`, a missing one.
 */
export function readLockFile(lockPath: LockPath, options: {readonly mayBeMissing?: boolean} = {}): LockFile | undefined {
  let info: Stats | undefined
  try {
    info = statSync(lockPath.path, {throwIfNoEntry: false})
  } catch (error) {
    throw fileSystemError(error, lockPath.display) ?? error
  }
  if (!info) {
    if (options.mayBeMissing) return undefined
    throw new UsageError(`${named(lockPath)}: no such file: check the path, or create it with e2b-artifacts lock ARTIFACT --version VERSION`)
  }
  if (!info.isFile()) throw new UsageError(`${named(lockPath)} is ${describeKind(info)}, not a lock file: give the path of the file (${LOCK_FILE_NAME})`)
  if (info.size > LOCK_MAX_BYTES) throw new UsageError(`${named(lockPath)} is larger than ${LOCK_MAX_BYTES} bytes: not an e2b-artifacts lock file`)
  let text: string
  try {
    text = readFileSync(lockPath.path, 'utf8')
  } catch (error) {
    throw fileSystemError(error, lockPath.display) ?? error
  }
  return parseLockFile(text, lockPath.display)
}
