/**
 * How long a provider asked us to wait, from its response headers. `retry-after` is optional and often
 * absent on OpenAI's 429s; the `x-ratelimit-*` headers are the reliable signal there.
 */

/** `retry-after-ms`, else `retry-after` in seconds or as an HTTP date. */
export function retryAfterFrom(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const LIMITS = ['requests', 'tokens'] as const;

/**
 * The wait a 429's `x-ratelimit-reset-*` headers name: the reset of each limit whose remaining count is
 * 0, the longest if both; when neither reads 0 (the request needed more tokens than were left), the
 * longest of both, since either may have refused it. Undefined without reset headers.
 */
export function rateLimitResetFrom(headers: Headers | undefined): number | undefined {
  const limits = LIMITS.flatMap((limit) => {
    const reset = parseDuration(headers?.get(`x-ratelimit-reset-${limit}`));
    if (reset === undefined) return [];
    return [{ reset, exhausted: headers?.get(`x-ratelimit-remaining-${limit}`)?.trim() === '0' }];
  });
  if (!limits.length) return undefined;
  const exhausted = limits.filter((l) => l.exhausted);
  return Math.max(...(exhausted.length ? exhausted : limits).map((l) => l.reset));
}

/** Whether a limit (requests or tokens) reads 0 remaining: the account is spent until its reset. */
export function exhaustedLimit(headers: Headers | undefined): boolean {
  return LIMITS.some((limit) => headers?.get(`x-ratelimit-remaining-${limit}`)?.trim() === '0');
}

/** The wait a provider names: `retry-after(-ms)` first, else its rate-limit reset headers. */
export function providerWaitFrom(headers: Headers | undefined): number | undefined {
  return retryAfterFrom(headers) ?? rateLimitResetFrom(headers);
}

const DURATION =
  /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/** OpenAI's duration style in ms: `6m0s`, `1.5s`, `20ms`, `1h2m3s`; undefined when it is not one. */
export function parseDuration(raw: string | null | undefined): number | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const [, h = '0', m = '0', s = '0', ms = '0'] = match;
  return Math.round(Number(h) * 3_600_000 + Number(m) * 60_000 + Number(s) * 1000 + Number(ms));
}
