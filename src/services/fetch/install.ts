import path from 'node:path'

import {fileSystemError} from '../../core/errors.js'
import {chmodAsync, renameAsync, syncDirectoryOf, writeFileAsync} from '../../core/fs-async.js'
import {discard, released, tempPathFor} from '../../core/temp-files.js'
import {ORIGIN_SUFFIX, type Wanted, originRecordFor} from '../../integrity/local-identity.js'
import {formatSidecar} from '../../integrity/sidecar.js'
import type {StagedFile} from '../../stores/ops/stage.js'

/** Writes `content` to a fresh temp file next to `finalPath`, synced, and notes it in `staged` (even when the write fails). */
async function stageText(finalPath: string, content: string, staged: Array<[temp: string, final: string]>): Promise<void> {
  const temp = tempPathFor(finalPath)
  staged.push([temp, finalPath])
  await writeFileAsync(temp, content, {flag: 'wx', flush: true, mode: 0o644})
}

/**
 * Moves a verified staged file to `finalPath`: chmod 0755, its sidecar (and,
 * for artifacts whose content does not name their version and arch, the
 * origin record) renamed into place first, then the binary, then the
 * directory synced. Each rename is of a synced temp file in the same
 * directory, so `finalPath` only ever holds a complete, verified file.
 */
export async function installVerified(staged: StagedFile, finalPath: string, wanted?: Wanted): Promise<void> {
  const companions: Array<[temp: string, final: string]> = []
  try {
    await stageText(`${finalPath}.sha256`, formatSidecar(staged.sha256, path.basename(finalPath)), companions)
    const origin = wanted && originRecordFor(wanted, staged.sha256)
    if (origin) await stageText(`${finalPath}${ORIGIN_SUFFIX}`, origin, companions)
    await chmodAsync(staged.path, 0o755)
    for (const [temp, final] of companions) {
      await renameAsync(temp, final)
      released(temp)
    }
    await renameAsync(staged.path, finalPath)
    released(staged.path)
    await syncDirectoryOf(finalPath)
  } catch (error) {
    throw fileSystemError(error, finalPath) ?? error
  } finally {
    await Promise.all(companions.map(([temp]) => discard(temp)))
  }
}
