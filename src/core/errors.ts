/**
 * Every failure the tool reports is one of these. The exit code lives on the
 * class, so the mapping from failure kind to exit code is defined here only.
 */
export const ExitCode = {
  ok: 0,
  operational: 1,
  usage: 2,
  integrity: 3,
  notFound: 4,
  conflict: 5,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export abstract class ArtifactError extends Error {
  abstract readonly exitCode: ExitCodeValue
  /** A short machine-readable kind, used in JSON output. */
  abstract readonly kind: string

  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Network after retries, permissions, disk. */
export class OperationalError extends ArtifactError {
  readonly exitCode = ExitCode.operational
  readonly kind: string = 'operational'
}

/** Unknown flag, bad version, arch, artifact or location. */
export class UsageError extends ArtifactError {
  readonly exitCode = ExitCode.usage
  readonly kind = 'usage'
}

/** Digest mismatch, bad or missing sidecar, wrong ELF arch, dynamic linking, wrong version string. */
export class IntegrityError extends ArtifactError {
  readonly exitCode = ExitCode.integrity
  readonly kind = 'integrity'
}

/** No such version, arch, object or release asset. */
export class NotFoundError extends ArtifactError {
  readonly exitCode = ExitCode.notFound
  readonly kind = 'not-found'
}

/** The destination holds different content and --force was not given. */
export class ConflictError extends ArtifactError {
  readonly exitCode = ExitCode.conflict
  readonly kind = 'conflict'
}

/** A retryable transport failure: reset, timeout, 429, 5xx, truncated body. */
export class TransientError extends OperationalError {
  override readonly kind = 'transient'
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: {cause?: unknown},
  ) {
    super(message, options)
  }
}

/** The exit code for anything thrown, including errors from oclif's parser. */
export function exitCodeOf(error: unknown): ExitCodeValue {
  if (error instanceof ArtifactError) return error.exitCode
  const oclifExit = (error as {oclif?: {exit?: unknown}} | undefined)?.oclif?.exit
  if (oclifExit === 2) return ExitCode.usage
  if (oclifExit === 0) return ExitCode.ok
  return ExitCode.operational
}

export function kindOf(error: unknown): string {
  if (error instanceof ArtifactError) return error.kind
  return exitCodeOf(error) === ExitCode.usage ? 'usage' : 'operational'
}

/**
 * The command did its work and the outcome is a failure (verify findings, copy
 * conflicts). It carries the report, so that --json prints one document that
 * holds both the report and the error.
 */
export class ReportedFailure extends ArtifactError {
  readonly kind = 'reported-failure'
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    readonly report: object,
  ) {
    super(message)
  }
}

/** What a file-system errno means to someone at a terminal, and what to do about it. */
const FILE_SYSTEM_ERRORS: Readonly<Record<string, {readonly means: string; readonly next: string}>> = {
  EACCES: {means: 'permission denied', next: 'fix the permissions there, or choose another destination'},
  EDQUOT: {means: 'disk quota exceeded', next: 'free some space there, or choose another destination'},
  EEXIST: {means: 'something else already exists there', next: 'remove it, or choose another destination'},
  EISDIR: {means: 'it is a directory', next: 'name a file instead'},
  ELOOP: {means: 'too many symbolic links', next: 'check the path'},
  EMFILE: {means: 'too many open files', next: 'raise the open-file limit (ulimit -n) and run again'},
  ENAMETOOLONG: {means: 'the name is too long', next: 'choose a shorter path'},
  ENOSPC: {means: 'no space left on device', next: 'free some space there, or choose another destination'},
  ENOTDIR: {means: 'a part of the path is not a directory', next: 'check the path'},
  EPERM: {means: 'operation not permitted', next: 'fix the permissions there, or choose another destination'},
  EROFS: {means: 'read-only file system', next: 'choose a destination on a writable file system'},
  ETXTBSY: {means: 'the file is being executed', next: 'stop whatever runs it, or choose another destination'},
}

const SYSCALL_VERBS: Readonly<Record<string, string>> = {
  access: 'access',
  chmod: 'change the mode of',
  copyfile: 'copy to',
  fsync: 'write',
  link: 'create',
  lstat: 'look at',
  mkdir: 'create the directory',
  mkdtemp: 'create a directory in',
  open: 'open',
  opendir: 'read the directory',
  read: 'read',
  readdir: 'read the directory',
  rename: 'rename into',
  rm: 'remove',
  rmdir: 'remove',
  scandir: 'read the directory',
  stat: 'look at',
  unlink: 'remove',
  write: 'write',
}

/**
 * A file-system failure as one line that names the path, says what the errno
 * means and what to do next: `cannot write /x/busybox: no space left on device
 * (ENOSPC): free some space there, or choose another destination`. `where` is
 * the path the caller was working on (Node's own `path` when it has none).
 * Undefined for anything that is not such an errno error.
 */
export function fileSystemError(error: unknown, where?: string): OperationalError | undefined {
  if (error instanceof ArtifactError) return undefined
  const errno = error as NodeJS.ErrnoException | undefined
  const code = errno?.code
  if (code === undefined || !Object.hasOwn(FILE_SYSTEM_ERRORS, code)) return undefined
  const place = where ?? errno?.path
  if (place === undefined) return undefined
  const {means, next} = FILE_SYSTEM_ERRORS[code]!
  const verb = (errno?.syscall && SYSCALL_VERBS[errno.syscall]) || 'write'
  return new OperationalError(`cannot ${verb} ${place}: ${means} (${code}): ${next}`, {cause: error})
}
