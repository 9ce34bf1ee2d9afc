import {runService} from '../runner.js'
import type {VerifyReport} from './findings.js'
import type {VerifyRequest} from './request.js'

/** `verify` in whichever mode the request chose; each mode's code is loaded only when used. */
export function verify(request: VerifyRequest): Promise<VerifyReport> {
  return runService(async () => {
    switch (request.mode) {
      case 'file': {
        const {verifyFile} = await import('./file.js')
        return verifyFile(request)
      }
      case 'at': {
        const {auditLocation} = await import('./audit.js')
        return auditLocation(request)
      }
      case 'against': {
        const {compareLocations} = await import('./against.js')
        return compareLocations(request)
      }
    }
  })
}
