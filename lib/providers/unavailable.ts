import { CircuitOpenError, type GatewayError, RateLimitError } from '../errors';
import type { Failure } from './failures';

/**
 * A provider not called: its breaker is open, the provider rate-limited this account (`throttled`, shared
 * through the breaker), or the gateway is at its own upstream rate limit (`capacity`).
 */
export interface Refusal {
  provider: string;
  retryAfterSeconds: number;
  reason: 'circuit' | 'throttled' | 'capacity';
}

const REFUSED: Record<Refusal['reason'], string> = {
  circuit: 'circuit open',
  throttled: 'rate limited by the provider',
  capacity: 'at the gateway rate limit',
};

/** The error for a call no provider could serve. */
export function unavailable(
  candidates: number,
  refusals: Refusal[],
  failures: { provider: string; failure: Failure }[],
): GatewayError {
  const only = failures[0];
  const refused = refusals[0];
  if (candidates === 1 && refused && refused.reason !== 'circuit') {
    const message =
      refused.reason === 'capacity'
        ? `The gateway is at its upstream rate limit; retry in ${refused.retryAfterSeconds} s.`
        : `${refused.provider} is rate limiting the gateway; retry in ${refused.retryAfterSeconds} s.`;
    return new RateLimitError({
      message,
      code: refused.reason === 'capacity' ? 'upstream_capacity' : 'upstream_rate_limited',
      retryAfter: refused.retryAfterSeconds,
    });
  }
  // A lone provider that failed keeps its own error (502, 504, 429 …); several, or open breakers, make a 503.
  if (candidates === 1 && only && !refusals.length) return only.failure.error;
  const waits = [
    ...refusals.map((r) => r.retryAfterSeconds),
    ...failures.map((f) => Math.ceil((f.failure.retryAfterMs ?? 0) / 1000)).filter((s) => s > 0),
  ];
  const retryAfter = waits.length ? Math.max(1, Math.min(...waits)) : 1;
  const detail = [
    ...refusals.map((r) => `${r.provider}: ${REFUSED[r.reason]}`),
    ...failures.map((f) => `${f.provider}: ${f.failure.error.code}`),
  ].join('; ');
  return new CircuitOpenError({
    message: candidates
      ? `No provider can serve this request right now (${detail}). Retry after ${retryAfter} s.`
      : 'No configured provider offers this capability.',
    retryAfter,
  });
}
