import type { LimitDecision, LimitView } from './rate-limiter.ts';

/**
 * OpenAI's `x-ratelimit-*` headers for one decision of the rate limiter (rate-limiter.ts), so they move
 * with the limits it enforces. On an admitted request each reset is the time until all capacity is back,
 * as OpenAI's are (at 500 RPM with one request used: `120ms`). On a refused one it is the time until this
 * request fits on that dimension (`0ms` where it already does): a client that waits the larger of the two
 * is admitted. A request larger than the token limit never fits; its tokens reset is the time to full.
 */
export function rateLimitHeaders(decision: LimitDecision): Record<string, string> {
  const resetOf = (view: LimitView) =>
    formatDuration(decision.allowed || !Number.isFinite(view.waitMs) ? view.resetMs : view.waitMs);
  return {
    'x-ratelimit-limit-requests': String(decision.requests.limit),
    'x-ratelimit-limit-tokens': String(decision.tokens.limit),
    'x-ratelimit-remaining-requests': String(remaining(decision.requests)),
    'x-ratelimit-remaining-tokens': String(remaining(decision.tokens)),
    'x-ratelimit-reset-requests': resetOf(decision.requests),
    'x-ratelimit-reset-tokens': resetOf(decision.tokens),
  };
}

function remaining(view: LimitView): number {
  return Math.max(0, Math.floor(view.limit - view.used + 1e-6));
}

/**
 * OpenAI's duration style: '20ms', '1.5s', '6m0s'. Rounded up to the millisecond, so that waiting the named
 * time is always enough.
 */
export function formatDuration(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 1000) return `${whole}ms`;
  const minutes = Math.floor(whole / 60_000);
  const seconds = (whole % 60_000) / 1000;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}
