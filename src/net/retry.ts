import {type RetryPolicy, retryPolicy} from '../core/config.js'
import {TransientError} from '../core/errors.js'

/** Exponential backoff with full jitter, never shorter than a server's Retry-After. */
export function backoffMs(policy: RetryPolicy, failedAttempt: number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1))
  const jittered = Math.random() * ceiling
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, 30_000))
}

export interface RetryOptions {
  /** Told about each retry, as one line: what failed, and when the next try starts. */
  readonly onRetry?: (message: string) => void
  readonly policy?: RetryPolicy
}

/**
 * Runs `attempt` until it succeeds, fails with a non-transient error, or the
 * tries run out. Only TransientError is retried; the last one is rethrown as
 * "`what` failed after N tries: <last error>", so `what` is a short noun
 * ("download"): the error itself names the URL.
 */
export async function withRetry<T>(what: string, attempt: (attemptNumber: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy = options.policy ?? retryPolicy()
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber)
    } catch (error) {
      if (!(error instanceof TransientError)) throw error
      if (attemptNumber >= policy.tries) {
        throw new TransientError(`${what} failed after ${attemptNumber} tries: ${error.message}`, undefined, {cause: error})
      }
      const delayMs = backoffMs(policy, attemptNumber, error.retryAfterMs)
      options.onRetry?.(`${error.message}; retrying (try ${attemptNumber + 1}) in ${Math.round(delayMs)} ms`)
      await new Promise((resolve) => {
        setTimeout(resolve, delayMs)
      })
    }
  }
}
