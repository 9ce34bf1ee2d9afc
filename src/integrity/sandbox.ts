import {spawn} from 'node:child_process'
import {constants} from 'node:fs'
import {access, chmod, copyFile, mkdir, mkdtemp, open, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {Readable} from 'node:stream'

/**
 * Runs a downloaded binary where none of the uploader's credentials are within
 * reach: it sees no host file but itself (no home directory, no cloud
 * credential file, no /run/secrets), gets a new, empty network namespace (the
 * host's loopback services included), no environment but PATH and an empty
 * HOME, no stdin, a deadline and bounded output.
 *
 * Two mechanisms, tried in order:
 * - `bwrap` (Debian `bubblewrap`): pivots into a fresh tmpfs, drops every
 *   capability, sets no_new_privs, and kills the sandbox with its parent.
 * - `unshare` (util-linux, always on Debian) under `setpriv`: a chroot into a
 *   private temp directory, inside new user, mount, PID, network, IPC and UTS
 *   namespaces. The binary runs with no capability, so it cannot chroot back
 *   out, and the kernel refuses a nested user namespace to a chrooted process.
 *
 * Both need namespaces that a container's seccomp profile or a distribution's
 * policy may forbid. Where neither works the answer is `ran: false` with the
 * reason: the caller skips the run check. Nothing here ever runs the binary
 * outside a sandbox.
 */

export type SandboxKind = 'bwrap' | 'unshare'

/** The order they are tried in by default: bwrap isolates the file system more thoroughly. */
export const SANDBOX_KINDS: readonly SandboxKind[] = ['bwrap', 'unshare']

export type SandboxInfo =
  /** `tools` are the absolute paths of the programs that set the sandbox up. */
  | {readonly available: true; readonly sandbox: SandboxKind; readonly tools: readonly string[]}
  | {readonly available: false; readonly reason: string}

export type SandboxResult =
  | {
      readonly ran: true
      readonly sandbox: SandboxKind
      /** Undefined when a signal ended it. */
      readonly exitCode: number | undefined
      readonly signal?: string
      readonly stdout: string
      readonly stderr: string
      /** It was killed at the deadline. */
      readonly timedOut: boolean
      /** It wrote more than `maxOutputBytes` to one stream and was killed; the output is cut there. */
      readonly truncated: boolean
    }
  | {readonly ran: false; readonly reason: string}

export interface SandboxOptions {
  /** The name it runs under (BusyBox dispatches on argv[0]): a plain file name. */
  readonly argv0: string
  readonly timeoutMs: number
  /** Per stream; the default is 1 MB. */
  readonly maxOutputBytes?: number
  /**
   * The mechanisms allowed, in order (default SANDBOX_KINDS). `[]` means none:
   * the configuration's way to turn the run off, and the tests' way to see what
   * a host without a sandbox does.
   */
  readonly sandboxes?: readonly SandboxKind[]
}

const DEFAULT_MAX_OUTPUT_BYTES = 1_000_000
/** Generous: the probe runs once per process, and a loaded CI runner is slow to set up namespaces. */
const PROBE_TIMEOUT_MS = 10_000
/** How long output may still arrive after the sandbox exited. */
const EXIT_GRACE_MS = 1000
/** bwrap's /tmp: room for a scratch file, not for filling the host's memory. */
const TMPFS_BYTES = 1 << 20
/** nobody: whatever the uploader's uid, the binary does not run as it, nor as root. */
const SANDBOX_ID = '65534'
/** HOME is the empty /tmp, so nothing that looks for ~/.config finds anything. */
const SANDBOX_ENV: Readonly<Record<string, string>> = {HOME: '/tmp', PATH: '/bin'}
/**
 * Fixed system directories rather than PATH: src/ takes nothing from the
 * environment, and the sandbox must be the system's, not whatever a PATH
 * entry supplies.
 */
const TOOL_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin']
const TOOLS: Readonly<Record<SandboxKind, readonly string[]>> = {bwrap: ['bwrap'], unshare: ['setpriv', 'unshare']}
const ARGV0 = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,63}$/

/** What one run produced, before it is tagged with the sandbox that ran it. */
interface Outcome {
  readonly exitCode: number | undefined
  readonly signal?: string
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
  readonly truncated: boolean
}

interface RunLimits {
  readonly timeoutMs: number
  readonly maxOutputBytes: number
}

/** A sandbox ready to start: the command line, an inherited fd (bwrap reads the binary from it), and what to undo afterwards. */
interface Launch {
  readonly command: string
  readonly args: readonly string[]
  readonly fd?: number
  readonly cleanup: () => Promise<void>
}

async function findTool(name: string): Promise<string | undefined> {
  for (const dir of TOOL_DIRS) {
    const candidate = path.join(dir, name)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      // Not in this directory.
    }
  }
  return undefined
}

/**
 * bwrap builds the root from nothing: the binary is copied in from an fd, so
 * neither the staged file's mode (0600 is fine) nor a noexec temp directory
 * matters. --unshare-user is explicit because --unshare-all only tries, and
 * --disable-userns closes the kernel surface of nested user namespaces.
 */
async function bwrapLaunch([bwrap]: readonly string[], file: string, argv0: string, args: readonly string[]): Promise<Launch> {
  const binary = await open(file, 'r')
  const setup = ['--unshare-all', '--unshare-user', '--disable-userns', '--uid', SANDBOX_ID, '--gid', SANDBOX_ID, '--die-with-parent', '--new-session']
  const env = ['--clearenv', ...Object.entries(SANDBOX_ENV).flatMap(([name, value]) => ['--setenv', name, value])]
  const tree = ['--perms', '0755', '--ro-bind-data', '3', `/bin/${argv0}`, '--dev', '/dev', '--size', String(TMPFS_BYTES), '--tmpfs', '/tmp', '--remount-ro', '/', '--chdir', '/tmp']
  return {args: [...setup, ...env, ...tree, '--', argv0, ...args], cleanup: () => binary.close(), command: bwrap!, fd: binary.fd}
}

/**
 * unshare cannot mount or bind, so the root is a private temp directory that
 * holds a copy of the binary and an empty /tmp (the copy gets its own mode,
 * whatever the staged file's). setpriv gives unshare a parent-death signal,
 * so killing us kills unshare, whose --kill-child then ends the PID namespace.
 * A user namespace also when we are root: it is what keeps the parent-death
 * signal (a setuid would clear it) and the binary's capabilities away.
 */
async function unshareLaunch([setpriv, unshare]: readonly string[], file: string, argv0: string, args: readonly string[]): Promise<Launch> {
  const root = await mkdtemp(path.join(tmpdir(), 'e2b-artifacts-sandbox-'))
  try {
    await mkdir(path.join(root, 'bin'))
    await mkdir(path.join(root, 'tmp'))
    await copyFile(file, path.join(root, 'bin', argv0))
    await chmod(path.join(root, 'bin', argv0), 0o755)
  } catch (error) {
    await removeTree(root)
    throw error
  }
  const guard = ['--pdeathsig', 'KILL', '--no-new-privs']
  const namespaces = [`--map-user=${SANDBOX_ID}`, `--map-group=${SANDBOX_ID}`, '--net', '--mount', '--pid', '--ipc', '--uts', '--fork', '--kill-child']
  return {
    args: [...guard, unshare!, ...namespaces, `--root=${root}`, '--wd=/tmp', '--', argv0, ...args],
    cleanup: () => removeTree(root),
    command: setpriv!,
  }
}

const LAUNCHERS: Readonly<Record<SandboxKind, typeof bwrapLaunch>> = {bwrap: bwrapLaunch, unshare: unshareLaunch}

/**
 * Removes a sandbox's root even after the binary, which owns it inside its
 * user namespace, made a directory unreadable; failing that, leaves it: a
 * stray temp directory must not turn a finished run into an error.
 */
async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, {force: true, recursive: true})
  } catch {
    await restoreModes(dir)
      .then(() => rm(dir, {force: true, recursive: true}))
      .catch(() => undefined)
  }
}

async function restoreModes(dir: string): Promise<void> {
  await chmod(dir, 0o700)
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    if (entry.isDirectory()) await restoreModes(path.join(dir, entry.name))
  }
}

/** Keeps the first `limit` bytes of a stream; reports when it went past them. */
function capture(stream: Readable, limit: number, onOverflow: () => void): () => string {
  const chunks: Buffer[] = []
  let size = 0
  stream.on('data', (chunk: Buffer) => {
    if (size >= limit) return
    chunks.push(chunk.subarray(0, limit - size))
    size += chunk.length
    if (size > limit) onOverflow()
  })
  return () => Buffer.concat(chunks).toString('utf8')
}

/**
 * Starts the sandbox in a process group of its own, so that the deadline can
 * SIGKILL the group; what the binary started inside dies with the sandbox's
 * PID namespace.
 */
function collect(launch: Launch, limits: RunLimits): Promise<Outcome> {
  const extra = launch.fd === undefined ? [] : [launch.fd]
  const child = spawn(launch.command, launch.args, {detached: true, env: SANDBOX_ENV, stdio: ['ignore', 'pipe', 'pipe', ...extra]})
  let timedOut = false
  let truncated = false
  const killTree = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  const overflow = (): void => {
    truncated = true
    killTree()
  }
  const stdout = capture(child.stdout!, limits.maxOutputBytes, overflow)
  const stderr = capture(child.stderr!, limits.maxOutputBytes, overflow)
  const timer = setTimeout(() => {
    timedOut = true
    killTree()
  }, limits.timeoutMs)
  return new Promise((resolve, reject) => {
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    // Should anything in the sandbox outlive it and hold the pipes open, stop reading rather than wait for it.
    child.on('exit', () => {
      setTimeout(() => [child.stdout, child.stderr].forEach((stream) => stream?.destroy()), EXIT_GRACE_MS).unref()
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({exitCode: code ?? undefined, stderr: stderr(), stdout: stdout(), timedOut, truncated, ...(signal ? {signal} : {})})
    })
  })
}

async function runWith(kind: SandboxKind, tools: readonly string[], file: string, argv0: string, args: readonly string[], limits: RunLimits): Promise<Outcome> {
  const launch = await LAUNCHERS[kind](tools, file, argv0, args)
  try {
    return await collect(launch, limits)
  } finally {
    await launch.cleanup()
  }
}

/** The exit status of the probe: one no sandbox tool uses for its own failures. */
const PROBE_EXIT = 73

/**
 * A static ELF that only exits with PROBE_EXIT, for the host's CPU. The probe
 * must not trust the binary under test (its exit status is its own to choose)
 * nor assume the host has any static program to borrow.
 */
function probeProgram(): Buffer | undefined {
  if (process.arch === 'x64') {
    // mov edi, 73; mov eax, 60 (exit); syscall
    return staticElf(62, Buffer.from([0xbf, PROBE_EXIT, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05]))
  }
  if (process.arch === 'arm64') {
    // mov x0, #73; mov x8, #93 (exit); svc #0
    const code = Buffer.alloc(12)
    ;[0xd2800920, 0xd2800ba8, 0xd4000001].forEach((word, index) => code.writeUInt32LE(word, index * 4))
    return staticElf(183, code)
  }
  return undefined
}

/** A little-endian ELF64 executable: a header, then one R+X segment mapping the whole file, then `code`. */
function staticElf(machine: number, code: Buffer): Buffer {
  const base = 0x400000n
  const headers = 64 + 56
  const size = BigInt(headers + code.length)
  const elf = Buffer.alloc(headers + code.length)
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0) // magic, 64-bit, little-endian, version 1
  elf.writeUInt16LE(2, 16) // ET_EXEC
  elf.writeUInt16LE(machine, 18)
  elf.writeUInt32LE(1, 20)
  elf.writeBigUInt64LE(base + BigInt(headers), 24) // entry: the code
  elf.writeBigUInt64LE(64n, 32) // program headers right after this one
  elf.writeUInt16LE(64, 52)
  elf.writeUInt16LE(56, 54)
  elf.writeUInt16LE(1, 56)
  elf.writeUInt32LE(1, 64) // PT_LOAD
  elf.writeUInt32LE(5, 68) // R+X
  elf.writeBigUInt64LE(base, 80)
  elf.writeBigUInt64LE(base, 88)
  elf.writeBigUInt64LE(size, 96)
  elf.writeBigUInt64LE(size, 104)
  elf.writeBigUInt64LE(0x10000n, 112) // page-aligned on 4K and 64K kernels alike
  code.copy(elf, headers)
  return elf
}

function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim() !== '') ?? '').trim().slice(0, 200)
}

/** The tools' own first error line names the tool ("bwrap: …", "unshare: …"). */
function probeFailure(kind: SandboxKind, outcome: Outcome): string {
  if (outcome.timedOut) return `${kind}: no answer within ${PROBE_TIMEOUT_MS / 1000} s`
  const status = outcome.signal ? `signal ${outcome.signal}` : `exit code ${outcome.exitCode ?? 'none'}`
  return firstLine(outcome.stderr) || `${kind}: ${status}`
}

/** Sets the sandbox up for real, exactly as a run would, and runs the probe program in it. */
async function probe(kind: SandboxKind): Promise<SandboxInfo> {
  const tools: string[] = []
  for (const name of TOOLS[kind]) {
    const tool = await findTool(name)
    if (!tool) return {available: false, reason: `${kind}: ${name} not found in ${TOOL_DIRS.join(', ')}`}
    tools.push(tool)
  }
  const program = probeProgram()
  if (!program) return {available: false, reason: `${kind}: no probe for this CPU (${process.arch})`}
  const dir = await mkdtemp(path.join(tmpdir(), 'e2b-artifacts-probe-'))
  try {
    const file = path.join(dir, 'probe')
    await writeFile(file, program, {mode: 0o600})
    const outcome = await runWith(kind, tools, file, 'probe', [], {maxOutputBytes: 4096, timeoutMs: PROBE_TIMEOUT_MS})
    if (outcome.exitCode === PROBE_EXIT) return {available: true, sandbox: kind, tools}
    return {available: false, reason: probeFailure(kind, outcome)}
  } catch (error) {
    return {available: false, reason: `${kind}: ${error instanceof Error ? error.message : String(error)}`}
  } finally {
    await rm(dir, {force: true, recursive: true})
  }
}

async function firstAvailable(kinds: readonly SandboxKind[]): Promise<SandboxInfo> {
  if (kinds.length === 0) return {available: false, reason: 'no sandbox is allowed'}
  const reasons: string[] = []
  for (const kind of kinds) {
    const info = await probe(kind)
    if (info.available) return info
    reasons.push(info.reason)
  }
  return {available: false, reason: `no working sandbox (${reasons.join('; ')})`}
}

const detected = new Map<string, Promise<SandboxInfo>>()

/** The first of `sandboxes` that works on this host, or why none does. Probed once per process. */
export async function detectSandbox(sandboxes: readonly SandboxKind[] = SANDBOX_KINDS): Promise<SandboxInfo> {
  const key = sandboxes.join(',')
  let info = detected.get(key)
  if (!info) {
    info = firstAvailable(sandboxes)
    detected.set(key, info)
  }
  return info
}

function checkOptions(options: SandboxOptions): void {
  if (!ARGV0.test(options.argv0)) throw new RangeError(`argv0 must be a plain file name, not ${JSON.stringify(options.argv0)}`)
  if (!(options.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, not ${options.timeoutMs}`)
  if (options.maxOutputBytes !== undefined && !(options.maxOutputBytes > 0)) throw new RangeError(`maxOutputBytes must be positive, not ${options.maxOutputBytes}`)
}

/**
 * Runs `file` as `argv0 args...` in a sandbox. `{ran: false}` when this host
 * has none that works: then nothing ran, and nothing was read from `file`.
 */
export async function runSandboxed(file: string, args: readonly string[], options: SandboxOptions): Promise<SandboxResult> {
  checkOptions(options)
  const info = await detectSandbox(options.sandboxes)
  if (!info.available) return {ran: false, reason: info.reason}
  const limits = {maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, timeoutMs: options.timeoutMs}
  const outcome = await runWith(info.sandbox, info.tools, file, options.argv0, args, limits)
  return {ran: true, sandbox: info.sandbox, ...outcome}
}
