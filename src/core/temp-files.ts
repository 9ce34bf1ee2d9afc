import {randomBytes} from 'node:crypto'
import {rmSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import path from 'node:path'

/** Temp files that exist right now and must not outlive the process. */
const live = new Set<string>()
let handlersInstalled = false

function installSignalCleanup(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      removeAllSync()
      process.exit(code)
    })
  }
}

function removeAllSync(): void {
  for (const file of live) rmSync(file, {force: true})
  live.clear()
}

/**
 * A unique temp path next to `finalPath`: same directory, so that the final
 * rename is atomic; dot-prefixed and `.tmp`-suffixed, so nobody mistakes it
 * for the real file. It is removed on SIGINT/SIGTERM until released.
 */
export function tempPathFor(finalPath: string): string {
  installSignalCleanup()
  const file = path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  live.add(file)
  return file
}

/** The temp file became a final file (renamed): stop tracking it. */
export function released(file: string): void {
  live.delete(file)
}

/** Deletes a temp file on a failure path. */
export async function discard(file: string): Promise<void> {
  live.delete(file)
  await rm(file, {force: true})
}
