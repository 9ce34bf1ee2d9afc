import {fileSystemError} from '../../core/errors.js'
import {renameAsync, syncDirectoryOf, writeFileAsync} from '../../core/fs-async.js'
import {discard, released, tempPathFor} from '../../core/temp-files.js'
import {type LockFile, formatLockFile} from '../../integrity/lock-file.js'
import type {LockPath} from './lock-file-io.js'

/**
 * Writes the lock file atomically: a synced temp file in the same directory,
 * renamed over the old one, then the directory synced. A reader sees the old
 * file or the new one, never part of either.
 */
export async function writeLockFile(lockPath: LockPath, lock: LockFile): Promise<void> {
  const temp = tempPathFor(lockPath.path)
  try {
    await writeFileAsync(temp, formatLockFile(lock), {flag: 'wx', flush: true, mode: 0o644})
    await renameAsync(temp, lockPath.path)
    released(temp)
    await syncDirectoryOf(lockPath.path)
  } catch (error) {
    throw fileSystemError(error, lockPath.display) ?? error
  } finally {
    await discard(temp)
  }
}
