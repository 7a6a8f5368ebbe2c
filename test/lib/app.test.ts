import { exports } from 'cloudflare:workers';
import { HTTPException } from 'hono/http-exception';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../lib/app';
import { createDeps } from '../../lib/deps';
import {
  BudgetExceededError,
  CircuitOpenError,
  type ErrorBody,
  InvalidRequestError,
  RateLimitError,
} from '../../lib/errors';
import { bindings, envWith } from '../support/env';
import { adminAuth } from '../support/keys';

/** An app with routes that fail in each way a handler can. */
function failingApp() {
  const app = createApp(createDeps);
  app.get('/gateway-error', () => {
    throw new InvalidRequestError({ message: 'intent: too long', param: 'intent' });
  });
  app.get('/rate-limited', () => {
    throw new RateLimitError({ message: 'Slow down.', retryAfter: 1.2 });
  });
  app.get('/budget', () => {
    throw new BudgetExceededError({ message: 'Daily budget of $5.00 reached.' });
  });
  app.get('/breaker', () => {
    throw new CircuitOpenError({ message: 'Provider unavailable.', retryAfter: 30 });
  });
  app.get('/zod', () => {
    z.object({ items: z.array(z.string()) }).parse({ items: [1] });
    return new Response('unreachable');
  });
  app.get('/http-exception', () => {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' });
  });
  app.get('/bug', () => {
    throw new TypeError(`cannot read properties of undefined (secret ${bindings.OPENAI_API_KEY})`);
  });
  app.post('/echo', async (c) => c.json({ size: (await c.req.text()).length }));
  return app;
}

async function errorOf(res: Response) {
  return (await res.json<ErrorBody>()).error;
}

describe('the app shell', () => {
  afterEach(() => vi.restoreAllMocks());

  it('renders a GatewayError with its status, type, code, param and request id', async () => {
    const res = await failingApp().request('/gateway-error', {}, bindings);
    expect(res.status).toBe(400);
    const requestId = res.headers.get('x-request-id');
    expect(await errorOf(res)).toEqual({
      type: 'invalid_request_error',
      code: 'invalid_request',
      message: 'intent: too long',
      param: 'intent',
      request_id: requestId,
    });
  });

  it.each([
    ['/rate-limited', 429, 'rate_limit_error', 'rate_limit_exceeded', '2'],
    ['/budget', 429, 'insufficient_quota', 'budget_exceeded', null],
    ['/breaker', 503, 'api_error', 'provider_unavailable', '30'],
  ])('renders %s as %i %s/%s with Retry-After %s', async (path, status, type, code, retryAfter) => {
    const res = await failingApp().request(path, {}, bindings);
    expect(res.status).toBe(status);
    expect(res.headers.get('retry-after')).toBe(retryAfter);
    expect(await errorOf(res)).toMatchObject({ type, code });
  });

  it('maps a ZodError to 400 with the failing path as param', async () => {
    const res = await failingApp().request('/zod', {}, bindings);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ type: 'invalid_request_error', param: 'items.0' });
  });

  it("maps Hono's HTTPException by status", async () => {
    const res = await failingApp().request('/http-exception', {}, bindings);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: 'invalid_request',
      message: 'Malformed JSON in request body',
    });
  });

  it('answers an unexpected error with a fixed 500 and logs the cause without secrets', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    const res = await failingApp().request('/bug', {}, bindings);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('cannot read properties');
    expect(JSON.parse(text).error).toMatchObject({ type: 'api_error', code: 'internal_error' });
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'request failed',
        request_id: res.headers.get('x-request-id'),
      }),
    );
    expect(logged[0].cause.name).toBe('TypeError');
    expect(lines.join('\n')).not.toContain(bindings.OPENAI_API_KEY);
  });

  it('answers unknown routes and methods with 404 in the error shape (to an authenticated caller)', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['POST', '/health'],
      ['DELETE', '/'],
    ] as const) {
      const res = await exports.default.fetch(`http://gateway${path}`, { method, headers: adminAuth });
      expect(res.status).toBe(404);
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      expect(await errorOf(res)).toMatchObject({ type: 'not_found_error', code: 'not_found' });
    }
  });

  it('rejects a body over MAX_BODY_BYTES with 413 before the handler reads it', async () => {
    const app = failingApp();
    const env = envWith({ MAX_BODY_BYTES: '2048' });
    const ok = await app.request('/echo', { method: 'POST', body: 'x'.repeat(2048) }, env);
    expect(await ok.json()).toEqual({ size: 2048 });
    const res = await app.request('/echo', { method: 'POST', body: 'x'.repeat(2049) }, env);
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatchObject({ code: 'request_too_large' });
    // A declared length is checked before anything is read; a body without one is counted as it streams.
    const declared = await app.request(
      '/echo',
      { method: 'POST', body: 'x'.repeat(2049), headers: { 'content-length': '2049' } },
      env,
    );
    expect([declared.status, (await errorOf(declared)).code]).toEqual([413, 'request_too_large']);
    const chunks = (n: number) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < n; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(512)));
          controller.close();
        },
      });
    const streamed = await app.request('/echo', { method: 'POST', body: chunks(5) }, env);
    expect([streamed.status, (await errorOf(streamed)).code]).toEqual([413, 'request_too_large']);
    const fits = await app.request('/echo', { method: 'POST', body: chunks(4) }, env);
    expect(await fits.json()).toEqual({ size: 2048 });
  });

  it('gives every response its own request id', async () => {
    const [a, b] = await Promise.all([
      exports.default.fetch('http://gateway/'),
      exports.default.fetch('http://gateway/'),
    ]);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('writes one structured log line per request', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    const res = await failingApp().request('/gateway-error?x=1', {}, bindings);
    const entries = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(entries).toEqual([
      expect.objectContaining({
        level: 'info',
        method: 'GET',
        path: '/gateway-error',
        status: 400,
        request_id: res.headers.get('x-request-id'),
      }),
    ]);
    expect(entries[0].duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('answers 500 misconfigured naming nothing, and logs which variables are wrong', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    const env = envWith({ OPENAI_MAX_RETRIES: 'lots', UPSTASH_REDIS_REST_URL: 'redis://nope' });
    const res = await failingApp().request('/gateway-error', {}, env);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text).error).toMatchObject({ type: 'api_error', code: 'misconfigured' });
    expect(text).not.toMatch(/OPENAI_MAX_RETRIES|UPSTASH|redis:\/\//);
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'configuration invalid');
    expect(logged.problems.join('\n')).toMatch(/OPENAI_MAX_RETRIES/);
    expect(logged.problems.join('\n')).toMatch(/UPSTASH_REDIS_REST_URL/);
    expect(JSON.stringify(logged)).not.toContain(bindings.UPSTASH_REDIS_REST_TOKEN);
  });
});
