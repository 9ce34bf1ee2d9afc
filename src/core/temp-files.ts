import {createHash, randomBytes} from 'node:crypto'
import {lstatSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, unlinkSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'

import {fileSystemError} from './errors.js'
import {mkdirAsync, removeFile} from './fs-async.js'

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
 * Temp names are `.{stem}.e2b-{pid}-{start}-{host}-{random}.tmp`: at most 24
 * characters of the final name (so that any legal final name leaves room),
 * then who owns the file: the process id, its start time (so that a reused
 * pid is told apart), and a tag of the machine and pid namespace it runs in
 * (so that a process in another container, whose pids mean nothing here, is
 * never judged dead). A kill -9 cannot clean up after itself; the next run
 * that stages in the same directory removes such files once their owner is
 * gone, and only names of exactly this shape.
 */
const TEMP_NAME = /^\.[A-Za-z0-9._-]{0,24}\.e2b-([1-9][0-9]{0,9})-([0-9a-z]{1,14})-([0-9a-f]{8})-[0-9a-f]{8}\.tmp$/
const STEM_LENGTH = 24

interface Owner {
  readonly pid: number
  /** Base 36 start time in clock ticks since boot ('0' where the system does not say). */
  readonly start: string
  readonly host: string
}

/** The start time of a process (Linux /proc), in base 36; undefined where unknown. */
function startTimeOf(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = fields[19]
    return ticks && /^\d+$/.test(ticks) ? BigInt(ticks).toString(36) : undefined
  } catch {
    return undefined
  }
}

function readOptional(read: () => string): string {
  try {
    return read().trim()
  } catch {
    return ''
  }
}

let self: Owner | undefined

function currentOwner(): Owner {
  self ??= {
    host: createHash('sha256')
      .update(hostname())
      .update('\0')
      .update(readOptional(() => readFileSync('/proc/sys/kernel/random/boot_id', 'latin1')))
      .update('\0')
      .update(readOptional(() => readlinkSync('/proc/self/ns/pid')))
      .digest('hex')
      .slice(0, 8),
    pid: process.pid,
    start: startTimeOf('self') ?? '0',
  }
  return self
}

/** Whether the process that created a temp file of ours is gone for certain. */
function ownerGone(pid: number, start: string, host: string): boolean {
  const me = currentOwner()
  // Another machine or pid namespace (a shared volume): its pids cannot be checked from here.
  if (host !== me.host) return false
  if (pid === me.pid) return start !== me.start
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
  // Alive: the same process, unless the pid was reused by a newer one.
  const now = startTimeOf(pid)
  return start !== '0' && now !== undefined && now !== start
}

const swept = new Set<string>()

/**
 * Removes the temp files in `dir` that a killed run left behind: names of
 * exactly our shape whose owner is gone. Once per directory per process;
 * anything it cannot judge or remove is left alone.
 */
export function sweepStaleTemps(dir: string): number {
  if (swept.has(dir)) return 0
  swept.add(dir)
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    const match = TEMP_NAME.exec(name)
    if (!match || !ownerGone(Number(match[1]), match[2]!, match[3]!)) continue
    const file = path.join(dir, name)
    try {
      if (!lstatSync(file).isFile()) continue
      unlinkSync(file)
      removed++
    } catch {
      // Someone else swept it first, or it is not ours to remove.
    }
  }
  return removed
}

/**
 * A unique temp path next to `finalPath`: same directory, so that the final
 * rename is atomic; dot-prefixed and `.tmp`-suffixed, so nobody mistakes it
 * for the real file; short, whatever the length of the final name. It is
 * removed on SIGINT/SIGTERM until released, and swept by a later run after a
 * kill -9. Stale temps of earlier runs in that directory are swept first.
 */
export function tempPathFor(finalPath: string): string {
  installSignalCleanup()
  const dir = path.dirname(finalPath)
  sweepStaleTemps(dir)
  const {host, pid, start} = currentOwner()
  const stem = path.basename(finalPath).replaceAll(/[^A-Za-z0-9._-]/g, '_').slice(0, STEM_LENGTH)
  const file = path.join(dir, `.${stem}.e2b-${pid}-${start}-${host}-${randomBytes(4).toString('hex')}.tmp`)
  live.add(file)
  return file
}

/** Whether `name` is a temp file name this module makes. */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name)
}

/** The temp file became a final file (renamed): stop tracking it. */
export function released(file: string): void {
  live.delete(file)
}

/** Deletes a temp file on a failure path. */
export async function discard(file: string): Promise<void> {
  live.delete(file)
  await removeFile(file)
}

/** The nearest existing ancestor of `dir` and the first missing directory below it. */
function firstMissing(dir: string): string | undefined {
  let current = dir
  for (;;) {
    const parent = path.dirname(current)
    if (parent === current) return undefined
    try {
      statSync(parent)
      return current
    } catch {
      current = parent
    }
  }
}

/**
 * Creates `dir` and its parents, as `mkdir -p`. A failure is one line naming
 * the directory and the real cause: Node's recursive mkdir reports ENOENT when
 * a parent is on a read-only file system, so the first missing directory is
 * created once more on its own to learn why.
 */
export async function prepareDirectory(dir: string): Promise<void> {
  try {
    await mkdirAsync(dir, {recursive: true})
    return
  } catch (error) {
    let cause: unknown = error
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT' ? firstMissing(dir) : undefined
    if (missing) {
      try {
        await mkdirAsync(missing)
      } catch (inner) {
        cause = inner
      }
    }
    throw fileSystemError(cause, dir) ?? cause
  }
}
