import {chmod, open, rename, writeFile} from 'node:fs/promises'
import path from 'node:path'

import {discard, released, tempPathFor} from '../../core/temp-files.js'
import {formatSidecar} from '../../integrity/sidecar.js'
import type {StagedFile} from '../../stores/ops/stage.js'

/**
 * Moves a verified staged file to `finalPath`: chmod 0755, its sidecar renamed
 * into place first, then the binary, then the directory synced. Each rename is
 * of a synced temp file in the same directory, so `finalPath` only ever holds
 * a complete, verified file.
 */
export async function installVerified(staged: StagedFile, finalPath: string): Promise<void> {
  const sidecarTemp = tempPathFor(`${finalPath}.sha256`)
  try {
    await writeFile(sidecarTemp, formatSidecar(staged.sha256, path.basename(finalPath)), {flag: 'wx', flush: true, mode: 0o644})
    await chmod(staged.path, 0o755)
    await rename(sidecarTemp, `${finalPath}.sha256`)
    released(sidecarTemp)
    await rename(staged.path, finalPath)
    released(staged.path)
  } finally {
    await discard(sidecarTemp)
  }
  const dir = await open(path.dirname(finalPath), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}
