import OpenAI, { type RateLimitError } from 'openai';
import { describe, expect, it } from 'vitest';
import { admit } from '../../dev/openai-sim/admission.ts';
import type { SimConfig } from '../../dev/openai-sim/index.ts';
import { createInvoice } from '../../dev/openai-sim/invoice.ts';
import { createRateLimiter } from '../../dev/openai-sim/rate-limiter.ts';
import { formatDuration } from '../../dev/openai-sim/ratelimit-headers.ts';
import { useSimulator } from '../support/node/simulator-fixture.ts';

const sim = useSimulator();
const { scopedClient, control, invoice, url } = sim;

/** What a raw call returned: status, parsed body and headers. */
interface Answer {
  status: number;
  body: { error?: { message: string; type: string; param: string | null; code: string | null } };
  headers: Headers;
  ms: number;
}

/** POSTs `body` to a /v1 endpoint with `key`, without the SDK, so every header can be read. */
async function call(
  key: string,
  body: Record<string, unknown>,
  options: { path?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${url()}${options.path ?? '/v1/responses'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify(body),
  });
  const parsed = (await res.json()) as Answer['body'];
  return { status: res.status, body: parsed, headers: res.headers, ms: performance.now() - started };
}

const luna = (input = 'Compare two tents', extra: Record<string, unknown> = {}) => ({
  model: 'gpt-6-luna',
  input,
  ...extra,
});

/** OpenAI's duration style ('20ms', '2.97s', '1m0s') in ms. */
function durationMs(text: string | null): number {
  const match = /^(?:(\d+)m)?(?:([\d.]+)s)?(?:(\d+)ms)?$/.exec(text ?? '');
  if (!match || !text) throw new Error(`not a duration: ${text}`);
  return Math.round(Number(match[1] ?? 0) * 60_000 + Number(match[2] ?? 0) * 1000 + Number(match[3] ?? 0));
}

const header = (answer: Answer, name: string) => answer.headers.get(name);

/** A key with `config`, and a call helper bound to it. */
async function account(config: SimConfig) {
  const { key } = await scopedClient(config);
  const send = (body: Record<string, unknown> = luna(), options: Parameters<typeof call>[2] = {}) =>
    call(key, body, options);
  return { key, send };
}

describe('the limiter on a fixed clock', () => {
  const deps = () => ({ limiter: createRateLimiter(), invoice: createInvoice() });
  const request = (nowMs: number) => ({
    apiKey: 'k',
    endpoint: '/v1/responses',
    model: 'gpt-6-luna',
    body: luna(),
    config: { rate_limits: { '*': { rpm: 20 } } },
    nowMs,
  });

  it('gives one request back every 3 s at 20 RPM and names exactly that wait', () => {
    const state = deps();
    for (let i = 0; i < 20; i++) expect(admit(request(0), state).refusal).toBeUndefined();
    const refused = admit(request(0), state);
    expect(refused.refusal?.body.error.message).toMatch(
      /^Rate limit reached for gpt-6-luna in organization org-[0-9a-f]{24} on requests per min \(RPM\): Limit 20, Used 20, Requested 1\. Please try again in 3s\. Visit https:\/\/platform\.openai\.com\/account\/rate-limits to learn more\.$/,
    );
    expect(refused.headers).toMatchObject({
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '3s',
      'x-ratelimit-reset-tokens': '0ms',
    });
    expect(admit(request(2999), state).refusal?.code).toBe('rate_limit_exceeded');
    const admitted = admit(request(3000), state);
    expect(admitted.refusal).toBeUndefined();
    // Admitted, the reset is the time until all 20 are back: a minute.
    expect(admitted.headers['x-ratelimit-reset-requests']).toBe('1m0s');
  });

  it('writes durations as OpenAI does, rounded up to the millisecond', () => {
    expect([360_000, 1500, 20, 0.2, 61_250.4, 59_999.5].map(formatDuration)).toEqual([
      '6m0s',
      '1.5s',
      '20ms',
      '1ms',
      '1m1.251s',
      '1m0s',
    ]);
  });
});

describe('requests per minute', () => {
  it('answers 429 rate_limit_exceeded (type requests) in OpenAI words past the RPM, with x-ratelimit headers that moved', async () => {
    const { send } = await account({ rate_limits: { 'gpt-6-luna': { rpm: 3 } } });
    const admitted = [await send(), await send(), await send()];
    expect(admitted.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(admitted.map((a) => header(a, 'x-ratelimit-remaining-requests'))).toEqual(['2', '1', '0']);
    expect(admitted.map((a) => header(a, 'x-ratelimit-limit-requests'))).toEqual(['3', '3', '3']);
    // Continuous replenishment: at 3 RPM, one request takes 20 s to come back, three take 60 s.
    expect(durationMs(header(admitted[2] as Answer, 'x-ratelimit-reset-requests'))).toBeGreaterThan(55_000);
    // 5 input tokens, no cap: the tokens limit moved too (and refills 66 a millisecond at 4M TPM).
    expect(Number(header(admitted[0] as Answer, 'x-ratelimit-remaining-tokens'))).toBe(3_999_995);

    const refused = await send();
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'requests', param: null, code: 'rate_limit_exceeded' });
    const message = refused.body.error?.message ?? '';
    expect(message).toMatch(
      /^Rate limit reached for gpt-6-luna in organization org-[0-9a-f]{24} on requests per min \(RPM\): Limit 3, Used 3, Requested 1\. Please try again in [\d.]+m?s\. Visit https:\/\/platform\.openai\.com\/account\/rate-limits to learn more\.$/,
    );
    const reset = header(refused, 'x-ratelimit-reset-requests');
    expect(message).toContain(`Please try again in ${reset}.`);
    expect(durationMs(reset)).toBeGreaterThan(15_000);
    expect(durationMs(reset)).toBeLessThanOrEqual(20_000);
    expect(header(refused, 'x-ratelimit-remaining-requests')).toBe('0');
    expect(header(refused, 'x-ratelimit-reset-tokens')).toBe('0ms');
    expect(header(refused, 'x-ratelimit-limit-tokens')).toBe('4000000');
  });

  it('admits a retry sent at the reset it named and refuses one sent 5 s before', async () => {
    const config: SimConfig = { rate_limits: { '*': { rpm: 2 } } };
    const { key, send } = await account(config);
    await send();
    await send();
    const resetMs = durationMs(header(await send(), 'x-ratelimit-reset-requests'));
    expect(resetMs).toBeGreaterThan(25_000);
    // The key's clock jumps forward instead of the test sleeping half a minute.
    const at = async (offsetMs: number) => {
      await control(`/_sim/config?key=${key}`, { ...config, clock_offset_ms: offsetMs });
      return (await send()).status;
    };
    expect(await at(resetMs - 5000)).toBe(429);
    expect(await at(resetMs)).toBe(200);
    expect(await at(resetMs)).toBe(429);
  });

  it('counts a retry of a refused call (same x-client-request-id) before its named reset as early, one after as not', async () => {
    const config: SimConfig = { rate_limits: { '*': { rpm: 2 } } };
    const { key, send } = await account(config);
    const tagged = (id: string) => ({ headers: { 'x-client-request-id': id } });
    await send(luna(), tagged('req_a'));
    await send(luna(), tagged('req_b'));
    const refused = await send(luna(), tagged('req_c'));
    const resetMs = durationMs(header(refused, 'x-ratelimit-reset-requests'));
    const earlyRetries = async () =>
      ((await (await fetch(`${url()}/_sim/stats?key=${key}`)).json()) as { early_retries: number })
        .early_retries;
    const at = async (offsetMs: number, id: string) => {
      await control(`/_sim/config?key=${key}`, { ...config, clock_offset_ms: offsetMs });
      return (await send(luna(), tagged(id))).status;
    };
    // Another request's call is no retry, whenever it comes.
    expect(await at(1000, 'req_d')).toBe(429);
    expect(await earlyRetries()).toBe(0);
    expect(await at(resetMs - 5000, 'req_c')).toBe(429);
    expect(await earlyRetries()).toBe(1);
    expect(await at(resetMs + 60_000, 'req_c')).toBe(200);
    expect(await earlyRetries()).toBe(1);
  });

  it('scales the minute by time_scale on the realistic profile and answers the 429 without its latency', async () => {
    const { send } = await account({
      profile: 'realistic',
      time_scale: 0.01,
      rate_limits: { '*': { rpm: 1 } },
    });
    // A model that does not reason answers within ~20 ms at this scale, well inside the 600 ms minute.
    const quick = { model: 'gpt-4.1-mini', input: 'Compare two tents' };
    expect((await send(quick)).status).toBe(200);
    const refused = await send(quick, { headers: { 'x-sim-latency-ms': '5000' } });
    expect(refused.status).toBe(429);
    expect(refused.ms).toBeLessThan(1000);
    const waitMs = durationMs(header(refused, 'x-ratelimit-reset-requests'));
    expect(waitMs).toBeLessThanOrEqual(600);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    expect((await send(quick)).status).toBe(200);
  });

  it('sends retry-after and retry-after-ms on some 429s and neither on others, always the same for the same request', async () => {
    const { send } = await account({ rate_limits: { '*': { rpm: 1 } } });
    await send();
    const refused = await Promise.all(Array.from({ length: 12 }, (_, i) => send(luna(`tent ${i}`))));
    expect(refused.every((a) => a.status === 429)).toBe(true);
    const withRetryAfter = refused.filter((a) => header(a, 'retry-after') !== null);
    expect(withRetryAfter.length).toBeGreaterThan(0);
    expect(withRetryAfter.length).toBeLessThan(refused.length);
    for (const answer of withRetryAfter) {
      const ms = Number(header(answer, 'retry-after-ms'));
      expect(ms).toBeGreaterThan(50_000);
      expect(header(answer, 'retry-after')).toBe(String(Math.ceil(ms / 1000)));
      expect(ms).toBe(durationMs(header(answer, 'x-ratelimit-reset-requests')));
    }
    for (const answer of refused.filter((a) => header(a, 'retry-after') === null)) {
      expect(header(answer, 'retry-after-ms')).toBeNull();
      expect(header(answer, 'x-ratelimit-reset-requests')).toMatch(/s$/);
    }
    const again = await Promise.all(Array.from({ length: 12 }, (_, i) => send(luna(`tent ${i}`))));
    expect(again.map((a) => header(a, 'retry-after') === null)).toEqual(
      refused.map((a) => header(a, 'retry-after') === null),
    );
  });
});

describe('tokens per minute', () => {
  it('counts the input estimate plus the output cap and answers 429 of type tokens past the TPM', async () => {
    const { send } = await account({ rate_limits: { 'gpt-6-luna': { tpm: 1000 } } });
    // 'Compare two tents' is 5 tokens to the simulator; with the cap, 405.
    const capped = luna('Compare two tents', { max_output_tokens: 400 });
    const admitted = [await send(capped), await send(capped)];
    expect(admitted.map((a) => a.status)).toEqual([200, 200]);
    expect(Number(header(admitted[1] as Answer, 'x-ratelimit-remaining-tokens'))).toBeLessThanOrEqual(190);
    const refused = await send(capped);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
    expect(refused.body.error?.message).toMatch(
      /^Rate limit reached for gpt-6-luna in organization org-\w+ on tokens per min \(TPM\): Limit 1000, Used 8\d\d, Requested 405\. Please try again in [\d.]+s\./,
    );
    // The requests limit has room; only the tokens one makes the client wait.
    expect(Number(header(refused, 'x-ratelimit-remaining-requests'))).toBeGreaterThan(0);
    expect(header(refused, 'x-ratelimit-reset-requests')).toBe('0ms');
    expect(durationMs(header(refused, 'x-ratelimit-reset-tokens'))).toBeGreaterThan(12_000);
    // A smaller request still fits.
    expect((await send(luna('Compare two tents', { max_output_tokens: 100 }))).status).toBe(200);
  });

  it('refuses a request larger than the TPM itself as too large, without retry-after', async () => {
    const { send } = await account({ rate_limits: { '*': { tpm: 1000 } } });
    const refused = await send(luna('Compare two tents', { max_output_tokens: 2000 }));
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
    expect(refused.body.error?.message).toMatch(
      /^Request too large for gpt-6-luna in organization org-\w+ on tokens per min \(TPM\): Limit 1000, Requested 2005\. The input or output tokens must be reduced/,
    );
    expect(header(refused, 'retry-after')).toBeNull();
  });
});

describe('isolation and billing', () => {
  it('keeps limits per key and per model', async () => {
    const config: SimConfig = { rate_limits: { 'gpt-6-luna': { rpm: 1 } } };
    const a = await account(config);
    const b = await account(config);
    expect((await a.send()).status).toBe(200);
    expect((await a.send()).status).toBe(429);
    const otherModel = await a.send({ model: 'gpt-4.1-mini', input: 'Compare two tents' });
    expect(otherModel.status).toBe(200);
    expect(header(otherModel, 'x-ratelimit-limit-requests')).toBe('10000');
    expect((await b.send()).status).toBe(200);
  });

  it('bills and generates nothing for a 429, and counts it in the stats', async () => {
    const { key, client } = await scopedClient({ rate_limits: { '*': { rpm: 1 } } });
    await client.responses.create(luna());
    const error = (await client.responses.create(luna()).catch((e: unknown) => e)) as RateLimitError;
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests' });
    const bill = await invoice(key);
    expect(bill.requests).toBe(1);
    expect((await control(`/_sim/stats?key=${key}`)).json.faults).toEqual({ rate_limit_exceeded: 1 });
  });
});

describe('insufficient_quota', () => {
  it('refuses every billable call once the key has spent its account budget, unbilled and without retry-after', async () => {
    const { key, send } = await account({ account_budget_usd: 0.000001 });
    expect((await send()).status).toBe(200);
    const spent = (await invoice(key)).total_usd;
    expect(spent).toBeGreaterThanOrEqual(0.000001);
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      error: {
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    });
    expect(header(refused, 'retry-after')).toBeNull();
    const embedding = await send(
      { model: 'text-embedding-3-small', input: 'tent' },
      { path: '/v1/embeddings' },
    );
    expect(embedding.status).toBe(429);
    // Moderation is free, so a spent account still gets it.
    const moderation = await send({ input: 'tent' }, { path: '/v1/moderations' });
    expect(moderation.status).toBe(200);
    const bill = await invoice(key);
    expect(bill.total_usd).toBe(spent);
    expect(bill.lines.map((line) => line.endpoint)).toEqual(['/v1/responses', '/v1/moderations']);
  });
});

describe('config', () => {
  it.each([
    [{ rate_limits: [] }, 'rate_limits must be an object'],
    [
      { rate_limits: { 'gpt-6-luna': { rpm: 0 } } },
      "rate_limits['gpt-6-luna'].rpm must be a positive integer",
    ],
    [{ rate_limits: { '*': { tpm: 1.5 } } }, "rate_limits['*'].tpm must be a positive integer"],
    [{ rate_limits: { '*': { rpm: 1, rps: 2 } } }, "unknown field 'rps'"],
    [{ rate_limits: { '*': {} } }, "must set 'rpm' and/or 'tpm'"],
    [{ account_budget_usd: -1 }, 'account_budget_usd must be a non-negative number'],
    [{ account_budget_usd: '5' }, 'account_budget_usd must be a non-negative number'],
  ])('rejects %j with a 400', async (config, message) => {
    const answer = await control('/_sim/config?key=bad-config', config);
    expect(answer.status).toBe(400);
    expect(answer.json.error?.message).toContain(message);
  });
});
