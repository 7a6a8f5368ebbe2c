/** When and how long to wait before another attempt at the same provider. */
export interface RetryPolicy {
  /** Attempts after the first one. @default 3 (OPENAI_MAX_RETRIES) */
  maxRetries: number;
  /** First backoff; each retry doubles it (1 s, 2 s, 4 s). @default 1000 (OPENAI_RETRY_BASE_MS) */
  baseDelayMs: number;
  /** Longest wait, for backoff and for a provider's `retry-after` alike. @default 20000 */
  maxDelayMs: number;
}

/**
 * The wait before retry number `retry` (0 for the first retry). A provider's own wait wins, never
 * shortened (a retry before its reset is refused again) but jittered up to 10 % later; otherwise
 * exponential backoff with up to 25 % jitter downwards, so isolates that failed together do not all
 * come back at the same instant. Both stay within `maxDelayMs`, or the provider's wait if it is longer
 * (callers do not retry past `maxDelayMs`).
 */
export function retryDelayMs(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number,
): number {
  if (retryAfterMs !== undefined) {
    return Math.round(
      Math.min(retryAfterMs * (1 + random() * 0.1), Math.max(retryAfterMs, policy.maxDelayMs)),
    );
  }
  const backoff = Math.min(policy.baseDelayMs * 2 ** retry, policy.maxDelayMs);
  return Math.round(backoff * (1 - random() * 0.25));
}
