import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { classifyFailure, retryAfterFrom } from '../../../lib/providers/failures';
import { retryDelayMs } from '../../../lib/providers/retry';

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

  it('takes the provider retry-after over backoff, capped at maxDelayMs', () => {
    expect(retryDelayMs(2, policy, 250, () => 0.5)).toBe(250);
    expect(retryDelayMs(0, policy, 90_000, () => 0)).toBe(20_000);
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
