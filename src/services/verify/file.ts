import {open, stat} from 'node:fs/promises'

import {ArtifactError} from '../../core/errors.js'
import {checkElfArch} from '../../integrity/elf.js'
import {sha256File} from '../../integrity/hash.js'
import {readSidecarFile} from '../../integrity/sidecar.js'
import {type Finding, type VerifyReport, buildReport} from './findings.js'
import type {VerifyRequest} from './request.js'

export type VerifyFileRequest = Extract<VerifyRequest, {mode: 'file'}>

async function exists(file: string): Promise<boolean> {
  return stat(file).then((info) => info.isFile(), () => false)
}

/** The digest a local file should have: the pin, which its sidecar (if any) must agree with, or the sidecar. */
function expectedDigest(request: VerifyFileRequest, findings: Finding[]): string | undefined {
  const sidecarPath = `${request.file}.sha256`
  const where = request.file
  let sha256: string
  try {
    const sidecar = readSidecarFile(request.file)
    if (!sidecar) {
      if (request.pin) return request.pin
      findings.push({kind: 'missing-sidecar', message: `${sidecarPath} does not exist: pass --sha256 or fetch the file again`, severity: 'integrity', where})
      return undefined
    }
    sha256 = sidecar.sha256
  } catch (error) {
    if (!(error instanceof ArtifactError)) throw error
    findings.push({kind: 'malformed-sidecar', message: error.message, severity: 'integrity', where})
    return request.pin
  }
  if (request.pin && sha256 !== request.pin) {
    findings.push({kind: 'digest-mismatch', message: `${sidecarPath} says ${sha256}, but --sha256 pins ${request.pin}`, severity: 'integrity', sha256, where})
  }
  return request.pin ?? sha256
}

/** `verify --file`: rehash a local file and compare with its sidecar or a pinned digest. */
export async function verifyFile(request: VerifyFileRequest): Promise<VerifyReport> {
  const where = request.file
  const findings: Finding[] = []
  if (!(await exists(request.file))) {
    findings.push({kind: 'missing', message: `${where} does not exist`, severity: 'not-found', where})
    return buildReport('file', request.artifact.name, findings, 0)
  }
  const expected = expectedDigest(request, findings)
  const actual = await sha256File(request.file)
  if (expected && actual.sha256 !== expected) {
    findings.push({kind: 'digest-mismatch', message: `${where} has sha256 ${actual.sha256}, expected ${expected}`, severity: 'integrity', sha256: actual.sha256, where})
  }
  if (request.artifact.elf && request.arch) {
    try {
      checkElfArch(await readHead(request.file), request.arch, where)
    } catch (error) {
      if (!(error instanceof ArtifactError)) throw error
      findings.push({arch: request.arch, kind: 'elf-mismatch', message: error.message, severity: 'integrity', where})
    }
  }
  if (findings.length === 0) {
    findings.push({kind: 'ok', message: `${where} matches ${request.pin ? '--sha256' : 'its sidecar'}`, severity: 'ok', sha256: actual.sha256, where})
  }
  return buildReport('file', request.artifact.name, findings, 1)
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, 'r')
  try {
    const {buffer, bytesRead} = await handle.read(Buffer.alloc(64), 0, 64, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}
