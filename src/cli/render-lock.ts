import {describeSlot} from '../integrity/lock-file.js'
import type {LockResult, LockedFile} from '../services/lock/lock.js'
import {formatBytes} from './reporter.js'
import {describeChecks} from './render-upload.js'

const short = (sha256: string): string => `${sha256.slice(0, 12)}…`

/** The line each file gets: what the lock now says about it, or (--check) how the lock compares with the source. */
export function describeLockedFile(file: LockedFile, lockFile: string): string {
  const slot = describeSlot(file)
  const verified = `${formatBytes(file.size)}, sha256 ${short(file.sha256)}, ${describeChecks(file)}`
  switch (file.status) {
    case 'added': {
      return `locked ${slot} from ${file.source} (${verified})`
    }
    case 'updated': {
      return `re-pinned ${slot} from sha256 ${short(file.locked!.sha256)} to ${short(file.sha256)} (--update), from ${file.source} (${verified})`
    }
    case 'unchanged': {
      return `${slot} is locked in ${lockFile} (sha256 ${short(file.sha256)}), and ${file.source} agrees`
    }
    case 'missing': {
      return `${slot} is not in ${lockFile} (${file.source} has sha256 ${short(file.sha256)})`
    }
    case 'differs': {
      return `${slot}: ${lockFile} pins sha256 ${short(file.locked!.sha256)}, but ${file.source} has ${short(file.sha256)}`
    }
  }
}

/** The closing line. */
export function describeLockSummary(result: LockResult): string {
  const count = (status: LockedFile['status']): number => result.files.filter((file) => file.status === status).length
  if (result.check) return `${result.lockFile} matches ${result.from} for all ${result.files.length} files of ${result.artifact} ${result.version}`
  if (!result.written) return `${result.lockFile} unchanged: all ${result.files.length} files of ${result.artifact} ${result.version} are locked, and ${result.from} agrees`
  return `wrote ${result.lockFile}: ${count('added')} added, ${count('updated')} re-pinned, ${count('unchanged')} unchanged`
}
