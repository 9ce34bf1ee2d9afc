import {createReadStream, createWriteStream} from 'node:fs'
import {chmod, copyFile, link, mkdir, readdir, rename, rm, stat} from 'node:fs/promises'
import path from 'node:path'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {ConflictError, NotFoundError, OperationalError} from '../core/errors.js'
import type {FileLocation} from '../core/location.js'
import {joinKey} from '../core/keys.js'
import {discard, released, tempPathFor} from '../core/temp-files.js'
import {HashingStream} from '../integrity/hash.js'
import type {ObjectBody, ObjectInfo, ReadOptions, Store, WriteOptions} from './store.js'

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code
}

/**
 * The mode a published file gets, whatever the umask and the source's mode:
 * binaries executable (a host's /fc-busybox), everything else, sidecars
 * included, 0644. Set on the temp file, so the final name never has another.
 */
function modeFor(options: WriteOptions): number {
  return options.executable ? 0o755 : 0o644
}

/** A local directory with the bucket layout. Writes stage to a temp file and publish with an atomic link or rename. */
export class FileStore implements Store {
  readonly provider = 'file'
  readonly display: string
  private readonly rootDir: string

  constructor(location: FileLocation, root: string) {
    this.rootDir = path.join(location.dir, root)
    this.display = this.rootDir
  }

  private pathOf(key: string): string {
    return path.join(this.rootDir, ...key.split('/'))
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.pathOf(key))
      return info.isFile() ? {key, size: info.size} : undefined
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined
      throw new OperationalError(`cannot stat ${this.pathOf(key)}: ${(error as Error).message}`)
    }
  }

  async read(key: string, options: ReadOptions = {}): Promise<ObjectBody> {
    const file = this.pathOf(key)
    const info = await this.stat(key)
    if (!info) throw new NotFoundError(`${file}: not found`)
    if (!options.firstBytes) return {body: createReadStream(file, {highWaterMark: 1 << 20}), size: info.size}
    const size = Math.min(options.firstBytes, info.size)
    return {body: createReadStream(file, {end: Math.max(0, size - 1), start: 0}), size}
  }

  async write(key: string, body: Buffer | Readable, options: WriteOptions): Promise<ObjectInfo> {
    const finalPath = this.pathOf(key)
    await mkdir(path.dirname(finalPath), {recursive: true})
    const temp = tempPathFor(finalPath)
    try {
      const hashing = new HashingStream({
        expect: {claimedBy: 'the declared digest', consequence: 'not written', sha256: options.sha256, size: options.size, where: `content for ${finalPath}`},
      })
      const source = Buffer.isBuffer(body) ? [body] : body
      await pipeline(source, hashing, createWriteStream(temp, {flags: 'wx', flush: true, mode: 0o600}))
      await chmod(temp, modeFor(options))
      await this.publish(temp, finalPath, options.precondition)
      released(temp)
      return {key, sha256: hashing.digest(), size: hashing.bytes}
    } catch (error) {
      await discard(temp)
      throw error
    }
  }

  /** `absent` uses link(2), which fails if the name exists, so two writers can never both win. */
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

  /** Like a bucket listing, `prefix` is a plain string prefix of keys, not necessarily a directory. */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1).replace(/\/$/, '')
    let entries: string[]
    try {
      entries = await readdir(this.pathOf(dirKey), {recursive: true})
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return
      throw error
    }
    for (const entry of entries.sort()) {
      const key = joinKey(dirKey, entry.split(path.sep).join('/'))
      if (!key.startsWith(prefix) || key.split('/').some((part) => part.startsWith('.'))) continue
      const info = await this.stat(key)
      if (info) yield info
    }
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), {force: true})
  }

  async copyWithin(source: Store, sourceKey: string, key: string, options: WriteOptions): Promise<ObjectInfo | undefined> {
    if (!(source instanceof FileStore)) return undefined
    const finalPath = this.pathOf(key)
    await mkdir(path.dirname(finalPath), {recursive: true})
    const temp = tempPathFor(finalPath)
    try {
      await copyFile(source.pathOf(sourceKey), temp)
      await chmod(temp, modeFor(options))
      await this.publish(temp, finalPath, options.precondition)
      released(temp)
      return {key, sha256: options.sha256, size: options.size}
    } catch (error) {
      await discard(temp)
      throw error
    }
  }
}
