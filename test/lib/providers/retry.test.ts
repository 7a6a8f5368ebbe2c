import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../../lib/providers/failures';
import { retryDelayMs } from '../../../lib/providers/retry';
import { parseDuration, rateLimitResetFrom, retryAfterFrom } from '../../../lib/providers/wait-headers';

const policy = { maxRetries: 3, baseDelayMs: 1000, maxDelayMs: 20_000 };

describe('retryDelayMs', () => {
  it('doubles from the base: 1 s, 2 s, 4 s, capped at maxDelayMs', () => {
    const none = () => 0;
    expect([0, 1, 2, 3, 4, 5].map((r) => retryDelayMs(r, policy, undefined, none))).toEqual([
      1000, 2000, 4000, 8000, 16000, 20000,
    ]);
  });

  it('jitters downwards by at most 25 %', () => {
    expect(retryDelayMs(1, policy, undefined, () => 0.999_999)).toBe(1500);
    expect(retryDelayMs(2, policy, undefined, () => 0.5)).toBe(3500);
  });

  it('takes the provider wait over backoff, never shorter, up to 10 % later within maxDelayMs', () => {
    expect(retryDelayMs(2, policy, 250, () => 0)).toBe(250);
    expect(retryDelayMs(2, policy, 250, () => 0.5)).toBe(263);
    expect(retryDelayMs(0, policy, 19_000, () => 0.999)).toBe(20_000);
    // Longer than the policy allows: not shortened (the router does not retry it at all).
    expect(retryDelayMs(0, policy, 90_000, () => 0.5)).toBe(90_000);
  });
});

describe('retryAfterFrom', () => {
  it('prefers retry-after-ms, then retry-after seconds, then an HTTP date', () => {
    expect(retryAfterFrom(new Headers({ 'retry-after-ms': '120', 'retry-after': '9' }))).toBe(120);
    expect(retryAfterFrom(new Headers({ 'retry-after': '2.5' }))).toBe(2500);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const fromDate = retryAfterFrom(new Headers({ 'retry-after': inTenSeconds })) ?? 0;
    expect(fromDate).toBeGreaterThan(8_000);
    expect(fromDate).toBeLessThanOrEqual(10_000);
    expect(retryAfterFrom(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterFrom(undefined)).toBeUndefined();
  });
});

describe('rateLimitResetFrom', () => {
  it('reads OpenAI durations', () => {
    expect(['6m0s', '1.5s', '20ms', '1h2m3s', '0s', '2m30.5s', '1s20ms'].map(parseDuration)).toEqual([
      360_000, 1500, 20, 3_723_000, 0, 150_500, 1020,
    ]);
    for (const bad of ['', 'soon', '5', '-1s', '1d', 'ms']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('takes the reset of the exhausted limit, the longest of both when neither reads 0', () => {
    const headers = (requests: string, tokens: string) =>
      new Headers({
        'x-ratelimit-remaining-requests': requests,
        'x-ratelimit-remaining-tokens': tokens,
        'x-ratelimit-reset-requests': '20ms',
        'x-ratelimit-reset-tokens': '6m0s',
      });
    expect(rateLimitResetFrom(headers('0', '90000'))).toBe(20);
    expect(rateLimitResetFrom(headers('12', '0'))).toBe(360_000);
    expect(rateLimitResetFrom(headers('0', '0'))).toBe(360_000);
    expect(rateLimitResetFrom(headers('12', '400'))).toBe(360_000);
    expect(rateLimitResetFrom(new Headers({ 'x-ratelimit-reset-requests': '3s' }))).toBe(3000);
    expect(rateLimitResetFrom(new Headers())).toBeUndefined();
  });
});

describe('classifyFailure', () => {
  const apiError = (status: number, body: object, headers: Record<string, string> = {}) =>
    APIError.generate(status, { error: body }, undefined, new Headers(headers));

  it('keeps an upstream 400 type, code, param and message, without the status prefix', () => {
    const failure = classifyFailure(
      apiError(400, {
        message: 'Invalid schema',
        type: 'invalid_request_error',
        code: 'invalid_json_schema',
        param: 'text.format',
      }),
      'openai',
    );
    expect(failure).toMatchObject({ retryable: false, providerFault: false });
    expect(failure.error).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      code: 'invalid_json_schema',
      param: 'text.format',
      message: 'Invalid schema',
    });
  });

  it('hides a 401 message, which can echo part of our key', () => {
    const failure = classifyFailure(
      apiError(401, { message: 'Incorrect API key provided: sk-abc***xyz' }),
      'openai',
    );
    expect(failure.error.status).toBe(502);
    expect(failure.error.message).not.toContain('sk-abc');
    expect(failure).toMatchObject({ retryable: false, providerFault: true });
  });

  it('treats a 429 rate_limit_exceeded as throttling: no breaker verdict, wait from retry-after or the reset headers', () => {
    const limited = (headers: Record<string, string>) =>
      classifyFailure(
        apiError(429, { message: 'Rate limit reached', code: 'rate_limit_exceeded' }, headers),
        'openai',
      );
    expect(
      limited({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1.5s' }),
    ).toMatchObject({
      retryable: true,
      throttled: true,
      retryAfterMs: 1500,
      error: { status: 429, code: 'upstream_rate_limited', retryAfter: 2 },
    });
    // retry-after, when sent, wins over the reset headers.
    expect(limited({ 'retry-after-ms': '40', 'x-ratelimit-reset-requests': '6m0s' })).toMatchObject({
      retryAfterMs: 40,
    });
    // Every caller shares a wait only when the account is spent for all (a limit at 0, or retry-after).
    expect(
      limited({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1.5s' }).sharedWaitMs,
    ).toBe(1500);
    const shortOfTokens = limited({
      'x-ratelimit-remaining-requests': '12',
      'x-ratelimit-remaining-tokens': '300',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    expect(shortOfTokens).toMatchObject({ retryAfterMs: 360_000, throttled: true });
    expect(shortOfTokens.sharedWaitMs).toBeUndefined();
    const bare = limited({});
    expect(bare).toMatchObject({ retryable: true, throttled: true, error: { retryAfter: 1 } });
    expect(bare.retryAfterMs).toBeUndefined();
    expect(bare.sharedWaitMs).toBeUndefined();
  });

  it('never retries a 429 larger than the per-minute token limit itself, nor makes others wait for it', () => {
    const failure = classifyFailure(
      apiError(429, {
        message:
          'Request too large for gpt-6-luna in organization org-x on tokens per min (TPM): Limit 1000, Requested 2005.',
        code: 'rate_limit_exceeded',
      }),
      'openai',
    );
    expect(failure).toMatchObject({
      retryable: false,
      throttled: true,
      error: { status: 429, code: 'upstream_request_too_large' },
    });
    expect(failure.sharedWaitMs).toBeUndefined();
  });

  it('treats a 429 insufficient_quota as an outage: no retry, the breaker counts it, a backup may serve', () => {
    const failure = classifyFailure(
      apiError(429, {
        message: 'You exceeded your current quota',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      }),
      'openai',
    );
    expect(failure).toMatchObject({
      retryable: false,
      providerFault: true,
      error: { status: 503, retryAfter: 60 },
    });
    expect(failure.throttled).toBeUndefined();
  });

  it('reads retry-after from a 429 and a 503', () => {
    expect(
      classifyFailure(apiError(429, { message: 'slow' }, { 'retry-after': '3' }), 'openai'),
    ).toMatchObject({
      retryable: true,
      retryAfterMs: 3000,
    });
    expect(
      classifyFailure(apiError(503, { message: 'busy' }, { 'retry-after-ms': '40' }), 'openai'),
    ).toMatchObject({
      retryable: true,
      providerFault: true,
      retryAfterMs: 40,
    });
  });
});
