import {
  ConflictError,
  ExitCode,
  type ExitCodeValue,
  IntegrityError,
  NotFoundError,
  OperationalError,
  UsageError,
  exitCodeOf,
} from './errors.js'

/**
 * When several things fail in one run, the exit code is the most severe one:
 * a bad binary (3) outranks a conflict (5), which outranks something missing
 * (4), which outranks an operational failure (1) and a usage error (2).
 * Integrity comes first because it means a source must not be trusted at all.
 */
export const SEVERITY: readonly ExitCodeValue[] = [ExitCode.integrity, ExitCode.conflict, ExitCode.notFound, ExitCode.operational, ExitCode.usage]

/** The most severe of several exit codes; 0 when there are none. */
export function mostSevere(codes: readonly number[]): ExitCodeValue {
  return SEVERITY.find((code) => codes.includes(code)) ?? ExitCode.ok
}

function rank(error: unknown): number {
  const index = SEVERITY.indexOf(exitCodeOf(error))
  return index === -1 ? SEVERITY.length : index
}

function errorWithCode(code: ExitCodeValue, message: string, cause: unknown): Error {
  switch (code) {
    case ExitCode.integrity: {
      return new IntegrityError(message, {cause})
    }
    case ExitCode.conflict: {
      return new ConflictError(message, {cause})
    }
    case ExitCode.notFound: {
      return new NotFoundError(message, {cause})
    }
    case ExitCode.usage: {
      return new UsageError(message, {cause})
    }
    default: {
      return new OperationalError(message, {cause})
    }
  }
}

/**
 * One error for several failures: the only one as it is, or a single line
 * listing all of them, carrying the most severe exit code.
 */
export function combineFailures(failures: readonly unknown[], summary: string): unknown {
  const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]!
  // A shared cause (no such release) fails every arch the same way: say it once.
  const distinct = failures.filter((error, index) => failures.findIndex((other) => firstLine(other) === firstLine(error)) === index)
  if (distinct.length === 1) return distinct[0]
  const worst = [...distinct].sort((a, b) => rank(a) - rank(b))[0]
  return errorWithCode(exitCodeOf(worst), `${summary}: ${distinct.map(firstLine).join('; ')}`, worst)
}
