import {IntegrityError} from '../core/errors.js'
import {displayKey, keyProblem} from '../core/keys.js'

/** A release's SHA256SUMS lists a handful of files; anything this large is not one. */
export const SHA256SUMS_MAX_BYTES = 64 * 1024

/** `sha256sum` output: 64 hex digits, a space, then a space (text) or `*` (binary), then the name. */
const LINE = /^([0-9a-fA-F]{64}) [ *](.+)$/

/**
 * Parses a multi-file `sha256sum` listing into name → lowercase hex digest.
 * The whole file is rejected when any line is malformed or a name is listed
 * twice with different digests: a damaged or tampered listing must not be
 * half-trusted; so is one that names a file by an unsafe name (see
 * core/keys). `where` names the file in error messages.
 */
export function parseSha256Sums(content: Buffer | string, where: string): ReadonlyMap<string, string> {
  const buffer = typeof content === 'string' ? Buffer.from(content) : content
  if (buffer.length > SHA256SUMS_MAX_BYTES) {
    throw new IntegrityError(`${where} is larger than ${SHA256SUMS_MAX_BYTES} bytes: not a SHA256SUMS file`)
  }
  const digests = new Map<string, string>()
  const lines = buffer.toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/)
  for (const [index, raw] of lines.entries()) {
    const line = raw.trimEnd()
    if (line.trim() === '') continue
    const match = LINE.exec(line)
    if (!match) throw new IntegrityError(`${where} line ${index + 1} is malformed: expected '<64 hex digits>  <file>'`)
    const sha256 = match[1]!.toLowerCase()
    const name = match[2]!.replace(/^\.\//, '')
    // Names are matched against asset names, never used as paths; one that no store could hold safely means a damaged or tampered file.
    const problem = keyProblem(name)
    if (problem !== undefined) throw new IntegrityError(`${where} line ${index + 1} names '${displayKey(name)}', an unsafe name (${problem}): the whole file is refused`)
    const earlier = digests.get(name)
    if (earlier !== undefined && earlier !== sha256) throw new IntegrityError(`${where} lists '${name}' twice with different digests`)
    digests.set(name, sha256)
  }
  if (digests.size === 0) throw new IntegrityError(`${where} lists no files`)
  return digests
}

/** The digest `sums` records for `name`; a missing entry is an integrity failure, not a pass. */
export function digestFor(sums: ReadonlyMap<string, string>, name: string, where: string): string {
  const sha256 = sums.get(name)
  if (sha256 === undefined) {
    throw new IntegrityError(`${where} has no entry for ${name} (it lists ${[...sums.keys()].join(', ')}): cannot verify it`)
  }
  return sha256
}
