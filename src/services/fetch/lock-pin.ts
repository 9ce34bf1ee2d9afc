import {IntegrityError} from '../../core/errors.js'
import {LOCK_FILE_NAME, describeSlot, findEntry} from '../../integrity/lock-file.js'
import {chooseLockPath, readLockFile} from '../shared/lock-file-io.js'
import type {FetchRequest, LockPin} from './request.js'

/** The command that adds the missing entry, for messages. */
function lockCommand(request: FetchRequest): string {
  return `e2b-artifacts lock ${request.artifact.name} --version ${request.version} --arch ${request.arch}`
}

/**
 * The digest the lock file pins for this fetch, read from local disk only
 * (the no-op fetch stays offline): the entry for the artifact, version, arch
 * and file is a pin, as --sha256 is. A --sha256 that disagrees with it is an
 * integrity error naming both. Without an entry (another arch's or version's
 * entry pins nothing here) the fetch goes on with a warning, unless
 * `--locked` makes it an error; without a lock file it goes on silently,
 * unless `--locked`.
 */
export function lockPinFor(request: FetchRequest, warn: (message: string) => void): LockPin | undefined {
  const lockPath = chooseLockPath(request.lockFlags, {discover: true})
  if (!lockPath) {
    if (!request.locked) return undefined
    throw new IntegrityError(`--locked: no ${LOCK_FILE_NAME} in ${process.cwd()} or above it, and none named by --lock or E2B_ARTIFACTS_LOCK: create one with ${lockCommand(request)}`)
  }
  const lock = readLockFile(lockPath)!
  const slot = {arch: request.arch, artifact: request.artifact.name, file: request.artifact.file, version: request.version}
  const entry = findEntry(lock, slot)
  if (!entry) {
    const missing = `${lockPath.display} has no entry for ${describeSlot(slot)}`
    if (request.locked) throw new IntegrityError(`${missing}, and --locked refuses what the lock does not pin: add it with ${lockCommand(request)}`)
    warn(`${missing}: fetched without a lock pin; add it with ${lockCommand(request)}`)
    return undefined
  }
  if (request.pin !== undefined && request.pin !== entry.sha256) {
    throw new IntegrityError(`--sha256 pins ${request.pin}, but ${lockPath.display} pins ${entry.sha256} for ${describeSlot(slot)}: drop --sha256, or correct whichever is wrong`)
  }
  return {sha256: entry.sha256, size: entry.size, where: lockPath.display}
}
