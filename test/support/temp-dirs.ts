import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'

const created: string[] = []

export async function tempDir(label = 'e2b-artifacts-test'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `${label}-`))
  created.push(dir)
  return dir
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, {force: true, recursive: true})))
}

/** Every file below `dir`, relative, sorted: to assert exactly what exists (and that no temp file is left). */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, {recursive: true, withFileTypes: true})
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
      .sort()
  } catch {
    return []
  }
}
