/**
 * Per-key, per-model request and token limits, replenished continuously as OpenAI's are: a limit of L per
 * window gives back L / window of capacity every millisecond, so at 20 RPM a request fits again 3 s after
 * the 20th, not at the top of the next minute. A refused request counts nothing, so the wait it is told is
 * true for that key and model: a retry at or after it fits, unless other requests took the room first.
 * (OpenAI's cookbook says unsuccessful requests count toward the limit; counting them here would let one
 * burst lock a key out for minutes and make every named wait a guess.)
 */

/** One dimension (requests or tokens) of a decision. */
export interface LimitView {
  limit: number;
  /** Capacity in use after the decision; fractional, as capacity comes back continuously. */
  used: number;
  /** What this request asked of it: 1 request, or its token count. */
  requested: number;
  /** Ms until all capacity is back: OpenAI's `x-ratelimit-reset-*` on a successful answer. */
  resetMs: number;
  /** Ms until this request fits: 0 when it does, Infinity when it exceeds the limit itself. */
  waitMs: number;
}

/** The outcome of one request against its key's limits for its model. */
export interface LimitDecision {
  allowed: boolean;
  requests: LimitView;
  tokens: LimitView;
}

/** Limits per window; `windowMs` is a minute, scaled by the config's `time_scale`. */
export interface LimitSpec {
  rpm: number;
  tpm: number;
  windowMs: number;
}

/** The limiter a simulator keeps for every key and model. */
export interface RateLimiter {
  /**
   * Counts a request of `tokens` tokens for `apiKey` and `model` at `nowMs` (the scope's clock) when both
   * limits have room for it, or when `enforce` is false (headers still move); otherwise refuses it and counts
   * nothing.
   */
  take(
    apiKey: string,
    model: string,
    request: { tokens: number; nowMs: number; enforce: boolean },
    spec: LimitSpec,
  ): LimitDecision;
  /** Forgets `apiKey`'s usage, or everyone's. */
  clear(apiKey?: string): void;
}

interface Usage {
  requests: number;
  tokens: number;
  atMs: number;
}

// Float sums of refills can land a hair below the exact amount; a wait rounded up to the ms always covers it.
const EPSILON = 1e-6;

/** An empty limiter. */
export function createRateLimiter(): RateLimiter {
  const byKey = new Map<string, Map<string, Usage>>();
  return {
    take(apiKey, model, request, spec) {
      let models = byKey.get(apiKey);
      if (!models) {
        models = new Map();
        byKey.set(apiKey, models);
      }
      const usage = replenished(models.get(model), request.nowMs, spec);
      const fitsRequests = usage.requests + 1 <= spec.rpm + EPSILON;
      const fitsTokens = usage.tokens + request.tokens <= spec.tpm + EPSILON;
      const allowed = !request.enforce || (fitsRequests && fitsTokens);
      if (allowed) {
        usage.requests += 1;
        usage.tokens += request.tokens;
      }
      models.set(model, usage);
      return {
        allowed,
        requests: viewOf(usage.requests, 1, spec.rpm, spec.windowMs, allowed),
        tokens: viewOf(usage.tokens, request.tokens, spec.tpm, spec.windowMs, allowed),
      };
    },
    clear(apiKey) {
      if (apiKey === undefined) byKey.clear();
      else byKey.delete(apiKey);
    },
  };
}

/** `usage` as it stands at `nowMs`, after the capacity that came back since it was last counted. */
function replenished(usage: Usage | undefined, nowMs: number, spec: LimitSpec): Usage {
  if (!usage) return { requests: 0, tokens: 0, atMs: nowMs };
  // A clock moved back (a smaller clock_offset_ms) gives nothing back rather than taking capacity away.
  const elapsedMs = Math.max(0, nowMs - usage.atMs);
  return {
    requests: Math.max(0, usage.requests - (elapsedMs * spec.rpm) / spec.windowMs),
    tokens: Math.max(0, usage.tokens - (elapsedMs * spec.tpm) / spec.windowMs),
    atMs: Math.max(nowMs, usage.atMs),
  };
}

function viewOf(
  used: number,
  requested: number,
  limit: number,
  windowMs: number,
  counted: boolean,
): LimitView {
  const msPerUnit = windowMs / limit;
  const excess = used + requested - limit;
  let waitMs = 0;
  if (!counted && requested > limit) waitMs = Number.POSITIVE_INFINITY;
  else if (!counted && excess > EPSILON) waitMs = excess * msPerUnit;
  return { limit, used, requested, resetMs: used * msPerUnit, waitMs };
}
