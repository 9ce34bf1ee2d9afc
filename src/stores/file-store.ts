import {constants} from 'node:fs'
import {type FileHandle, chmod, link, lstat, mkdir, open, readdir, rename, rm} from 'node:fs/promises'
import path from 'node:path'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {ConflictError, IntegrityError, NotFoundError, OperationalError} from '../core/errors.js'
import type {FileLocation} from '../core/location.js'
import {assertSafeKey, joinKey} from '../core/keys.js'
import {FileSink} from '../core/file-sink.js'
import {discard, released, tempPathFor} from '../core/temp-files.js'
import {HashingStream, declaredContent} from '../integrity/hash.js'
import type {ObjectBody, ObjectInfo, ReadOptions, RefusedEntry, Store, WriteOptions} from './store.js'

function isErrno(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '')
}

/**
 * The mode a published file gets, whatever the umask and the source's mode:
 * binaries executable (a host's /fc-busybox), everything else, sidecars
 * included, 0644. Set on the temp file, so the final name never has another.
 */
function modeFor(options: WriteOptions): number {
  return options.executable ? 0o755 : 0o644
}

const LINK_REFUSED = 'it is a symbolic link (links are never followed)'

function linkError(file: string): IntegrityError {
  return new IntegrityError(`${file}: ${LINK_REFUSED}: refused`)
}

/** A key resolved inside the store: its absolute path and its path components below the location's directory. */
interface Resolved {
  readonly file: string
  readonly parts: readonly string[]
}

/**
 * A local directory with the bucket layout. Writes stage to a temp file and
 * publish with an atomic link or rename.
 *
 * Nothing outside the root is ever touched: every key passes the key-safety
 * rule and must resolve inside the root, and no symbolic link below the
 * location's directory is followed, on the way to a file or as the file
 * itself (each component is checked with lstat, files are opened with
 * O_NOFOLLOW). The directory the location names is the user's own choice and
 * is taken as given.
 */
export class FileStore implements Store {
  readonly provider = 'file'
  readonly display: string
  /** The directory the location names. */
  private readonly baseDir: string
  /** Components from `baseDir` to the store's root (the artifact prefix, when there is one). */
  private readonly rootParts: readonly string[]
  private readonly rootDir: string

  constructor(location: FileLocation, root: string) {
    this.baseDir = path.resolve(location.dir)
    if (root !== '') assertSafeKey(root, this.baseDir)
    this.rootParts = root === '' ? [] : root.split('/')
    this.rootDir = path.join(this.baseDir, ...this.rootParts)
    this.display = this.rootDir
  }

  /** Where a key lives, refused (IntegrityError) unless it is a safe key that stays inside the root. */
  private resolve(key: string): Resolved {
    assertSafeKey(key, this.display)
    const keyParts = key.split('/')
    const file = path.join(this.rootDir, ...keyParts)
    const relative = path.relative(this.rootDir, file)
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new IntegrityError(`${this.display}: the key ${key} resolves outside the store's root: refused`)
    }
    return {file, parts: [...this.rootParts, ...keyParts]}
  }

  /**
   * Whether every directory on the way to `parts`' last component exists, is
   * a directory and is not a link (a link is an IntegrityError).
   */
  private async parentsExist(parts: readonly string[]): Promise<boolean> {
    let dir = this.baseDir
    for (const part of parts.slice(0, -1)) {
      dir = path.join(dir, part)
      let info
      try {
        info = await lstat(dir)
      } catch (error) {
        if (isErrno(error, 'ENOENT', 'ENOTDIR')) return false
        throw new OperationalError(`cannot stat ${dir}: ${(error as Error).message}`)
      }
      if (info.isSymbolicLink()) throw linkError(dir)
      if (!info.isDirectory()) return false
    }
    return true
  }

  /** Creates the directories on the way to `parts`' last component one at a time, refusing any that is a link. */
  private async makeParents(parts: readonly string[]): Promise<void> {
    await mkdir(this.baseDir, {recursive: true})
    let dir = this.baseDir
    for (const part of parts.slice(0, -1)) {
      dir = path.join(dir, part)
      try {
        await mkdir(dir)
        continue
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error
      }
      const info = await lstat(dir)
      if (info.isSymbolicLink()) throw linkError(dir)
      if (!info.isDirectory()) throw new OperationalError(`${dir} exists and is not a directory: cannot write below it`)
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const {file, parts} = this.resolve(key)
    if (!(await this.parentsExist(parts))) return undefined
    let info
    try {
      info = await lstat(file)
    } catch (error) {
      if (isErrno(error, 'ENOENT', 'ENOTDIR')) return undefined
      throw new OperationalError(`cannot stat ${file}: ${(error as Error).message}`)
    }
    if (info.isSymbolicLink()) throw linkError(file)
    if (info.isDirectory()) return undefined
    if (!info.isFile()) throw new IntegrityError(`${file}: not a regular file: refused`)
    return {key, size: info.size}
  }

  /** Opens a regular file without following a link, even one that appeared after the checks. */
  private async openFile(key: string): Promise<{handle: FileHandle; size: number}> {
    const {file, parts} = this.resolve(key)
    if (!(await this.parentsExist(parts))) throw new NotFoundError(`${file}: not found`)
    let handle: FileHandle
    try {
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (error) {
      if (isErrno(error, 'ENOENT', 'ENOTDIR', 'EISDIR')) throw new NotFoundError(`${file}: not found`)
      if (isErrno(error, 'ELOOP')) throw linkError(file)
      throw new OperationalError(`cannot open ${file}: ${(error as Error).message}`)
    }
    const info = await handle.stat()
    if (!info.isFile()) {
      await handle.close()
      if (info.isDirectory()) throw new NotFoundError(`${file}: not found`)
      throw new IntegrityError(`${file}: not a regular file: refused`)
    }
    return {handle, size: info.size}
  }

  async read(key: string, options: ReadOptions = {}): Promise<ObjectBody> {
    const {handle, size} = await this.openFile(key)
    if (!options.firstBytes) return {body: handle.createReadStream({highWaterMark: 1 << 20}), size}
    const head = Math.min(options.firstBytes, size)
    return {body: handle.createReadStream({end: Math.max(0, head - 1), start: 0}), size: head}
  }

  async write(key: string, body: Buffer | Readable, options: WriteOptions): Promise<ObjectInfo> {
    const {file: finalPath, parts} = this.resolve(key)
    await this.makeParents(parts)
    const temp = tempPathFor(finalPath)
    try {
      const hashing = new HashingStream({expect: declaredContent(options, finalPath)})
      const source = Buffer.isBuffer(body) ? [body] : body
      // FileSink opens with 'wx' (O_CREAT|O_EXCL: never an existing name, a link included) and syncs before it finishes.
      await pipeline(source, hashing, new FileSink(temp, 0o600))
      await chmod(temp, modeFor(options))
      await this.publish(temp, finalPath, options.precondition)
      released(temp)
      // Hashed here, from the bytes written: evidence, not metadata.
      return {key, sha256: hashing.digest(), size: hashing.bytes}
    } catch (error) {
      await discard(temp)
      throw error
    }
  }

  /**
   * `absent` uses link(2), which fails if the name exists, so two writers can
   * never both win. Neither link(2) nor rename(2) follows a link at the final
   * name: rename replaces the link itself.
   */
  private async publish(temp: string, finalPath: string, precondition: WriteOptions['precondition']): Promise<void> {
    if (precondition === 'any') {
      await rename(temp, finalPath)
      return
    }
    try {
      await link(temp, finalPath)
    } catch (error) {
      if (isErrno(error, 'EEXIST')) throw new ConflictError(`${finalPath} already exists`)
      throw error
    }
    await rm(temp, {force: true})
  }

  /**
   * Like a bucket listing, `prefix` is a plain string prefix of keys, not
   * necessarily a directory. Lists regular files only, without following
   * links: a link, or anything else that is not a regular file, is listed as
   * refused. Dot-names (temp files) are not content and are passed over.
   */
  async *list(prefix: string): AsyncIterable<ObjectInfo | RefusedEntry> {
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1).replace(/\/+$/, '')
    const startParts = dirKey === '' ? [] : dirKey.split('/')
    let dir = this.baseDir
    for (const [index, part] of [...this.rootParts, ...startParts].entries()) {
      dir = path.join(dir, part)
      let info
      try {
        info = await lstat(dir)
      } catch (error) {
        if (isErrno(error, 'ENOENT', 'ENOTDIR')) return
        throw error
      }
      if (info.isSymbolicLink()) {
        if (index < this.rootParts.length) throw linkError(dir)
        yield {key: startParts.slice(0, index - this.rootParts.length + 1).join('/'), refused: LINK_REFUSED}
        return
      }
      if (!info.isDirectory()) return
    }
    yield* this.walk(dirKey, dir, prefix)
  }

  private async *walk(dirKey: string, dir: string, prefix: string): AsyncIterable<ObjectInfo | RefusedEntry> {
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch (error) {
      if (isErrno(error, 'ENOENT', 'ENOTDIR')) return
      throw error
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('.')) continue
      const key = joinKey(dirKey, entry.name)
      const below = `${key}/`
      const matches = key.startsWith(prefix)
      if (entry.isDirectory()) {
        if (below.startsWith(prefix) || prefix.startsWith(below)) yield* this.walk(key, path.join(dir, entry.name), prefix)
      } else if (entry.isSymbolicLink()) {
        if (matches || prefix.startsWith(below)) yield {key, refused: LINK_REFUSED}
      } else if (!matches) {
        continue
      } else if (entry.isFile()) {
        const info = await lstat(path.join(dir, entry.name)).catch(() => undefined)
        if (info?.isFile()) yield {key, size: info.size}
      } else {
        yield {key, refused: 'it is not a regular file'}
      }
    }
  }

  async remove(key: string): Promise<void> {
    const {file, parts} = this.resolve(key)
    if (!(await this.parentsExist(parts))) return
    await rm(file, {force: true})
  }

  /** A copy between two directories: read without following links, hashed and checked while written, published like write. */
  async copyWithin(source: Store, sourceKey: string, key: string, options: WriteOptions): Promise<ObjectInfo | undefined> {
    if (!(source instanceof FileStore)) return undefined
    const {body} = await source.read(sourceKey)
    try {
      return await this.write(key, body, options)
    } finally {
      body.destroy()
    }
  }
}
