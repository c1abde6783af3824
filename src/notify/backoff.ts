/** When a failed delivery is tried again: capped exponential backoff with jitter. */

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

/**
 * The delay after the `attempt`-th failure (1-based): base × 2^(attempt-1), at most maxMs,
 * then drawn between half and all of it so that receivers coming back are not hit by every
 * delivery at the same instant. Undefined once maxAttempts have failed: the delivery is given up.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number | undefined {
  if (attempt >= policy.maxAttempts) return undefined;
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(capped / 2 + (capped / 2) * random());
}
