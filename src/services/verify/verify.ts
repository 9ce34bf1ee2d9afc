import {runService} from '../runner.js'
import {readLockFile} from '../shared/lock-file-io.js'
import type {VerifyReport} from './findings.js'
import type {VerifyRequest} from './request.js'

/** `verify` in whichever mode the request chose; each mode's code is loaded only when used. A lock named with --lock is read first, before any network access. */
export function verify(request: VerifyRequest): Promise<VerifyReport> {
  return runService(async () => {
    const lock = request.lock && {display: request.lock.display, file: readLockFile(request.lock)!}
    switch (request.mode) {
      case 'file': {
        const {verifyFile} = await import('./file.js')
        return verifyFile(request)
      }
      case 'at': {
        const {auditLocation} = await import('./audit.js')
        return auditLocation(request, lock)
      }
      case 'against': {
        const {compareLocations} = await import('./against.js')
        return compareLocations(request, lock)
      }
    }
  })
}
