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
