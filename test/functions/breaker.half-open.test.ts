import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import type { ErrorBody } from '../../lib/errors';
import { redisKey } from '../../lib/store';
import { freshCaller } from '../support/gateway';
import { withinOneMinute } from '../support/minute';
import { simConfigure, simRequests } from '../support/providers';
import { countingClient } from '../support/redis';
import { privateModel, proxyCaller } from './openai-proxy.support';

const OPEN_SECONDS = 0.5;
/**
 * How long the healed simulator holds every text answer, so the probe is still out while the burst
 * reaches the breaker (admission, moderation and reservation spread 20 requests over ~0.2–0.7 s).
 * Without it the probe answers in milliseconds and closes the breaker, and later arrivals are rightly
 * served by a closed breaker: those are not probes.
 */
const PROBE_MS = 2000;

const { redis } = countingClient();

/** A caller of POST /v1/opportunities whose text model (so its breaker) is its own. */
async function breakerCaller(overrides: Record<string, string> = {}) {
  const model = `luna-probe-${crypto.randomUUID().slice(0, 8)}`;
  const caller = await freshCaller('/v1/opportunities', {
    MODEL_POLICY: JSON.stringify({ opportunities: { model } }),
    PRICING_OVERRIDES: JSON.stringify({
      [model]: { kind: 'text', inputPerMillion: 0.4, cachedInputPerMillion: 0.1, outputPerMillion: 1.6 },
    }),
    OPENAI_CIRCUIT_BREAKER_FAILURES: '3',
    OPENAI_CIRCUIT_BREAKER_TIMEOUT: String(OPEN_SECONDS),
    OPENAI_MAX_RETRIES: '1',
    OPENAI_RETRY_BASE_MS: '10',
    ...overrides,
  });
  const ask = () => caller.post({ intent: `trail boots ${uniqueWord()}` });
  const responses = async () => (await simRequests(caller.sim))['/v1/responses'] ?? 0;
  const breaker = () => redis.hgetall<Record<string, string>>(redisKey('breaker', `openai:${model}`));
  return { ...caller, ask, responses, breaker };
}

/**
 * Fails the model until its breaker opens, as a client meets it (two 502s, three upstream calls), and
 * returns when the breaker opens again for a probe (its open window read from Redis).
 */
async function openBreaker(caller: Awaited<ReturnType<typeof breakerCaller>>) {
  await simConfigure(caller.sim, { faults: [{ kind: 'status', status: 503, endpoint: '/v1/responses' }] });
  // Two attempts each: the second request's first attempt is the third failure in a row.
  expect([(await caller.ask()).status, (await caller.ask()).status]).toEqual([502, 502]);
  expect(await caller.responses()).toBe(3);
  const opened = await caller.breaker();
  expect(opened?.state).toBe('open');
  return Number(opened?.open_until);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the shared breaker through the HTTP API', () => {
  it('lets exactly one of 20 concurrent requests probe a half-open model, 20 times; the rest are refused 503 + Retry-After', async () => {
    // Ten lanes of two rounds: twenty sequences, each its own model, key and simulator account.
    const lanes = Array.from({ length: 10 }, async () => {
      for (let round = 0; round < 2; round++) {
        const caller = await breakerCaller();
        const openUntil = await openBreaker(caller);
        await simConfigure(caller.sim, { latency_ms: { '/v1/responses': PROBE_MS } });
        await sleep(openUntil - Date.now() + 50);
        const held = await caller.breaker();
        expect(held?.state).toBe('open');
        expect(Number(held?.open_until)).toBeLessThan(Date.now());

        const before = await caller.responses();
        const answered = await Promise.all(
          Array.from({ length: 20 }, async () => {
            const res = await caller.ask();
            const body = res.status === 200 ? null : await res.json<ErrorBody>();
            return { status: res.status, at: Date.now(), body, retryAfter: res.headers.get('retry-after') };
          }),
        );
        const served = answered.filter((a) => a.status === 200).sort((x, y) => x.at - y.at);
        const probeAt = served[0]?.at ?? Number.NaN;
        // Every answer takes PROBE_MS upstream: one served less than that after the probe's answer was
        // sent before the probe ended, in half-open: a second probe. Later ones met a closed breaker.
        const inHalfOpen = served.filter((a) => a.at < probeAt + PROBE_MS / 2);
        const afterClose = served.length - inHalfOpen.length;
        // On failure, say what the twenty met: statuses and error codes.
        const met = answered.map((a) => `${a.status}${a.body ? ` ${a.body.error.code}` : ''}`).sort();
        expect(inHalfOpen, met.join(', ')).toHaveLength(1);
        expect(await caller.responses()).toBe(before + 1 + afterClose);
        const refused = answered.filter((a) => a.status !== 200);
        expect(refused.length + served.length).toBe(20);
        for (const r of refused) {
          expect(r.status).toBe(503);
          expect(r.body?.error.code).toBe('provider_unavailable');
          expect(Number(r.retryAfter)).toBeGreaterThan(0);
        }
        // The probe's success closed the breaker for everyone.
        expect(await caller.breaker()).toBeNull();
      }
    });
    await Promise.all(lanes);
  }, 120_000);

  it('keeps the breaker open when the probe is held back by the gateway upstream rate limit', async () => {
    // The proxy, which calls nothing but the model: one upstream call a minute for this account, spent
    // by the failure that opens the breaker.
    const { model, PRICING_OVERRIDES } = privateModel();
    const { raw, sim, settled } = await proxyCaller({
      PRICING_OVERRIDES,
      OPENAI_MAX_RETRIES: '0',
      OPENAI_CIRCUIT_BREAKER_FAILURES: '1',
      OPENAI_CIRCUIT_BREAKER_TIMEOUT: '0.2',
      OPENAI_RATE_LIMIT_RPM: '1',
    });
    const ask = () => raw('/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] });
    const breaker = () => redis.hgetall<Record<string, string>>(redisKey('breaker', `openai:${model}`));
    // Every request of the test falls in the minute of the first (see withinOneMinute).
    await withinOneMinute(15_000);
    await simConfigure(sim, { faults: [{ kind: 'status', status: 503, endpoint: '/v1/chat/completions' }] });
    expect((await ask()).status).toBe(502);
    await simConfigure(sim, {});
    await sleep(300);

    for (let i = 0; i < 3; i++) {
      // Each caller takes the probe, then the gateway's own limit holds it back: 429, never a call.
      const held = await ask();
      expect(held.status).toBe(429);
      expect((await held.json<ErrorBody>()).error.code).toBe('upstream_capacity');
      await settled();
      // The probe went back untouched: still open, no lease, not closed without a real answer.
      const state = await breaker();
      expect(state?.state).toBe('open');
      expect(state?.probe).toBeUndefined();
    }
    expect((await simRequests(sim))['/v1/chat/completions']).toBe(1);
  }, 40_000);
});
