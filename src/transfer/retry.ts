import {TransientError} from '../core/errors.js'

export interface RetryPolicy {
  /** Total attempts, including the first. */
  readonly tries: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

function positiveIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  return Number.isInteger(value) && value >= 0 ? value : fallback
}

/** Defaults from DESIGN.md; the environment may tune them (tests shorten the delays). */
export function defaultRetryPolicy(): RetryPolicy {
  return {
    baseDelayMs: positiveIntFromEnv('E2B_ARTIFACTS_RETRY_BASE_MS', 250),
    maxDelayMs: positiveIntFromEnv('E2B_ARTIFACTS_RETRY_MAX_MS', 8000),
    tries: Math.max(1, positiveIntFromEnv('E2B_ARTIFACTS_RETRIES', 4)),
  }
}

/** Exponential backoff with full jitter, never shorter than a server's Retry-After. */
export function backoffMs(policy: RetryPolicy, failedAttempt: number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1))
  const jittered = Math.random() * ceiling
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, 30_000))
}

/**
 * Runs `attempt` until it succeeds, fails with a non-transient error, or the
 * tries run out. Only TransientError is retried; the last one is rethrown as
 * "`what` failed after N tries: <last error>", so `what` is a short noun
 * ("download"): the error itself names the URL.
 */
export async function withRetry<T>(
  what: string,
  attempt: (attemptNumber: number) => Promise<T>,
  options: {onRetry?: (error: TransientError, attemptNumber: number, delayMs: number) => void; policy?: RetryPolicy} = {},
): Promise<T> {
  const policy = options.policy ?? defaultRetryPolicy()
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber)
    } catch (error) {
      if (!(error instanceof TransientError)) throw error
      if (attemptNumber >= policy.tries) {
        throw new TransientError(`${what} failed after ${attemptNumber} tries: ${error.message}`, undefined, {cause: error})
      }
      const delayMs = backoffMs(policy, attemptNumber, error.retryAfterMs)
      options.onRetry?.(error, attemptNumber, delayMs)
      await new Promise((resolve) => {
        setTimeout(resolve, delayMs)
      })
    }
  }
}
