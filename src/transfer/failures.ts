import {
  ConflictError,
  ExitCode,
  type ExitCodeValue,
  IntegrityError,
  NotFoundError,
  OperationalError,
  UsageError,
  SEVERITY,
  exitCodeOf,
} from '../core/errors.js'

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
