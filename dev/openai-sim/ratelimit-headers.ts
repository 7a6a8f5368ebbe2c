/** Simulated per-key request limit per minute, in the range of a mid-tier OpenAI organisation. */
export const REQUEST_LIMIT = 10_000;
/** Simulated per-key token limit per minute. */
export const TOKEN_LIMIT = 2_000_000;
const WINDOW_MS = 60_000;

interface Window {
  startedAt: number;
  requests: number;
  tokens: number;
}

/**
 * Produces OpenAI's `x-ratelimit-*` headers from a per-key one-minute window. The simulator never
 * enforces these limits (use a `status` 429 fault for that); the headers only have to look and move like
 * the real ones.
 */
export function createRateLimitHeaders(now: () => number = Date.now) {
  const windows = new Map<string, Window>();
  return function rateLimitHeaders(apiKey: string, tokens: number): Record<string, string> {
    const time = now();
    let window = windows.get(apiKey);
    if (!window || time - window.startedAt >= WINDOW_MS) {
      window = { startedAt: time, requests: 0, tokens: 0 };
      windows.set(apiKey, window);
    }
    window.requests += 1;
    window.tokens += tokens;
    const resetIn = formatDuration(window.startedAt + WINDOW_MS - time);
    return {
      'x-ratelimit-limit-requests': String(REQUEST_LIMIT),
      'x-ratelimit-limit-tokens': String(TOKEN_LIMIT),
      'x-ratelimit-remaining-requests': String(Math.max(0, REQUEST_LIMIT - window.requests)),
      'x-ratelimit-remaining-tokens': String(Math.max(0, TOKEN_LIMIT - window.tokens)),
      'x-ratelimit-reset-requests': resetIn,
      'x-ratelimit-reset-tokens': resetIn,
    };
  };
}

/** OpenAI's duration style: '20ms', '1.5s', '6m0s'. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Number(((ms % 60_000) / 1000).toFixed(3));
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}
