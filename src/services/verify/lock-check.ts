import {type LockEntry, type LockFile, describeSlot} from '../../integrity/lock-file.js'
import type {Finding} from './findings.js'

/** A lock file named with --lock, read. */
export interface VerifyLock {
  readonly file: LockFile
  /** For messages. */
  readonly display: string
}

type Base = Pick<Finding, 'arch' | 'version' | 'where'>

/** A note (exit 0) that the lock does not pin what a location holds. */
export function notLocked(lock: VerifyLock, base: Base, what: string): Finding {
  return {...base, kind: 'not-locked', message: `${what} is not pinned by ${lock.display}`, severity: 'info'}
}

/** What the lock says about what a location holds: a mismatch (exit 3), a match, or a note that the lock does not pin it. */
export function lockFinding(lock: VerifyLock, entry: LockEntry | undefined, held: {readonly sha256: string; readonly size?: number; readonly checked: boolean}, base: Base, what: string): Finding {
  if (!entry) return notLocked(lock, base, what)
  const pinned = `${lock.display} pins ${describeSlot(entry)} to ${entry.sha256}`
  if (held.sha256 !== entry.sha256) return {...base, kind: 'lock-mismatch', message: `${what} has sha256 ${held.sha256}, but ${pinned}`, severity: 'integrity', sha256: held.sha256}
  if (held.size !== undefined && held.size !== entry.size) {
    return {...base, kind: 'lock-mismatch', message: `${what} is ${held.size} bytes, but ${pinned} (${entry.size} bytes)`, severity: 'integrity', sha256: held.sha256}
  }
  if (!held.checked) return {...base, kind: 'locked', message: `${what}: its sidecar agrees with ${lock.display}, but its content was not checked (--metadata-only)`, severity: 'info', sha256: held.sha256}
  return {...base, kind: 'locked', message: `${what} matches ${lock.display}`, severity: 'ok', sha256: held.sha256}
}
