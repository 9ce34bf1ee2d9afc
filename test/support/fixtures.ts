import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Arch} from '../../src/core/catalog.js'

const FIXTURE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'busybox')

/** The version of Debian's busybox-static that test/fixtures/get-busybox.sh unpacks. */
export const FIXTURE_VERSION = '1.35.0'

/** Path of a real static busybox for `arch`. Fails loudly when the fixtures were not fetched. */
export function busyboxFixture(arch: Arch): string {
  const file = path.join(FIXTURE_DIR, arch, 'busybox')
  if (!existsSync(file)) {
    throw new Error(`missing fixture ${file}: run 'bash test/fixtures/get-busybox.sh' (needs apt and root)`)
  }
  return file
}

export async function busyboxBytes(arch: Arch): Promise<Buffer> {
  return readFile(busyboxFixture(arch))
}
