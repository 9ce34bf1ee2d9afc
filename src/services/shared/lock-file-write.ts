import {open, rename, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {fileSystemError} from '../../core/errors.js'
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
    await writeFile(temp, formatLockFile(lock), {flag: 'wx', flush: true, mode: 0o644})
    await rename(temp, lockPath.path)
    released(temp)
    const dir = await open(path.dirname(lockPath.path), 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  } catch (error) {
    throw fileSystemError(error, lockPath.display) ?? error
  } finally {
    await discard(temp)
  }
}
