import {chmod, close, fsync, mkdir, open, read, rename, unlink, writeFile} from 'node:fs'
import path from 'node:path'
import {promisify} from 'node:util'

/*
 * Promise forms of the callback file-system calls that a download and an
 * install make. Not node:fs/promises: loading it (with the readline, watcher
 * and directory modules it brings) costs every cold `fetch` about 1.3 ms,
 * while node:fs and node:util are loaded before any of our code runs.
 * Marked pure, so that a bundle that imports this module but none of them
 * (the up-to-date bundle, through integrity/elf) does not run the promisify
 * calls at all.
 */
export const chmodAsync = /* @__PURE__ */ promisify(chmod)
export const closeAsync = /* @__PURE__ */ promisify(close)
export const mkdirAsync = /* @__PURE__ */ promisify(mkdir)
export const openAsync = /* @__PURE__ */ promisify(open)
export const readAsync = /* @__PURE__ */ promisify(read)
export const renameAsync = /* @__PURE__ */ promisify(rename)
export const writeFileAsync = /* @__PURE__ */ promisify(writeFile)
const fsyncAsync = /* @__PURE__ */ promisify(fsync)
const unlinkAsync = /* @__PURE__ */ promisify(unlink)

/** Deletes a file; one that is already gone is not an error. (Not fs.rm, which loads its own module for a recursive removal.) */
export async function removeFile(file: string): Promise<void> {
  try {
    await unlinkAsync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/** Syncs the directory holding `file`, so that a rename into it survives a crash. */
export async function syncDirectoryOf(file: string): Promise<void> {
  const fd = await openAsync(path.dirname(file), 'r')
  try {
    await fsyncAsync(fd)
  } finally {
    await closeAsync(fd)
  }
}
