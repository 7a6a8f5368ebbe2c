import { describe, expect, it } from 'vitest';
import {
  CircuitOpenError,
  mayBeBilled,
  RateLimitError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../../../lib/errors';
import { UpstreamRequestError } from '../../../lib/providers/failures';
import { callProviders } from '../../../lib/providers/router';
import type { ProviderTarget } from '../../../lib/providers/targets';
import {
  FAST_POLICY,
  providerName,
  routerHarness,
  simConfigure,
  simKey,
  simRequests,
  simTarget,
} from '../../support/providers';

/** One cheap upstream call: list models is enough to exercise transport, status and faults. */
const embedOnce = (target: ProviderTarget, model: string) =>
  target.client.embeddings.create({ model, input: 'hello' }).then((r) => r.data.length);

async function failing(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('callProviders retries', () => {
  it('retries 503 with exponential backoff (1 s, 2 s, 4 s) and gives up after maxRetries', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 503 }] });
    const { deps, sleeps } = routerHarness([simTarget(providerName(), key)], { failureThreshold: 10 });
    const err = await failing(callProviders(deps, 'embeddings', FAST_POLICY, embedOnce));
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(502);
    expect(sleeps).toEqual([1000, 2000, 4000]);
    expect((await simRequests(key))['/v1/embeddings']).toBe(4);
  });

  it('waits what retry-after says on a 429 and succeeds once the limit clears', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 429, retry_after_s: 1.5, times: 2 }] });
    const { deps, sleeps } = routerHarness([simTarget(providerName(), key)]);
    const served = await callProviders(deps, 'embeddings', FAST_POLICY, embedOnce);
    expect(served).toMatchObject({ value: 1, attempts: 3, retries: 2, fallback: false });
    expect(sleeps).toEqual([1500, 1500]);
  });

  it('never retries before a wait the provider named: one past maxDelayMs goes to the client as Retry-After', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 429, retry_after_s: 120, times: 1 }] });
    const { deps, sleeps } = routerHarness([simTarget(providerName(), key)]);
    const err = await failing(
      callProviders(deps, 'embeddings', { ...FAST_POLICY, maxDelayMs: 5000 }, embedOnce),
    );
    expect(err).toMatchObject({ status: 429, code: 'upstream_rate_limited', retryAfter: 120 });
    expect(sleeps).toEqual([]);
    expect((await simRequests(key))['/v1/embeddings']).toBe(1);
  });

  it('answers a 429 that outlasts the retries with 429 upstream_rate_limited and Retry-After', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 429, retry_after_s: 2 }] });
    const { deps } = routerHarness([simTarget(providerName(), key)], { failureThreshold: 10 });
    const err = await failing(
      callProviders(deps, 'embeddings', { ...FAST_POLICY, maxRetries: 1 }, embedOnce),
    );
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ status: 429, code: 'upstream_rate_limited', retryAfter: 2 });
  });

  it.each([
    ['dropped connection', { kind: 'drop' }, UpstreamError],
    ['malformed JSON', { kind: 'malformed' }, UpstreamError],
    ['500', { kind: 'status', status: 500 }, UpstreamError],
    ['408', { kind: 'status', status: 408 }, UpstreamError],
  ])('retries a %s and succeeds when it clears', async (_, fault, ErrorClass) => {
    const key = simKey();
    await simConfigure(key, { faults: [{ ...fault, times: 1 }] });
    const target = simTarget(providerName(), key, { timeoutMs: 300 });
    const harness = routerHarness([target]);
    const { sleeps } = harness;
    let rebills = 0;
    const billing = { retry: async () => ++rebills > 0, abandoned: () => undefined };
    const deps = { ...harness.deps, billing };
    const served = await callProviders(deps, 'embeddings', FAST_POLICY, embedOnce);
    expect(served).toMatchObject({ attempts: 2, retries: 1 });
    expect(sleeps).toEqual([1000]);
    // A drop or an unreadable answer may have been billed: the retry needed room of its own. A status was not.
    expect(rebills).toBe(fault.kind === 'status' ? 0 : 1);
    // And with the fault permanent, the error class is the one the client will see.
    await simConfigure(key, { faults: [fault] });
    const err = await failing(
      callProviders(deps, 'embeddings', { ...FAST_POLICY, maxRetries: 0 }, embedOnce),
    );
    expect(err).toBeInstanceOf(ErrorClass);
  });

  it('retries a timed-out paid call only once room for another bill is reserved', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'timeout', endpoint: '/v1/embeddings', times: 1 }] });
    const harness = routerHarness([simTarget(providerName(), key, { timeoutMs: 300 })]);
    const asked: string[] = [];
    const told: string[] = [];
    const billing = (room: boolean) => ({
      retry: async (capability: string) => {
        asked.push(capability);
        return room;
      },
      abandoned: (capability: string) => void told.push(capability),
    });
    const served = await callProviders(
      { ...harness.deps, billing: billing(true) },
      'embeddings',
      FAST_POLICY,
      embedOnce,
    );
    expect(served).toMatchObject({ value: 1, attempts: 2, retries: 1 });
    expect(asked).toEqual(['embeddings']);
    expect(told).toEqual([]);
    // Refused room, it is not made again: the attempt is abandoned (charged), and the error says so.
    await simConfigure(key, { faults: [{ kind: 'timeout', endpoint: '/v1/embeddings', times: 1 }] });
    const refused = { ...harness.deps, billing: billing(false) };
    const err = await failing(callProviders(refused, 'embeddings', FAST_POLICY, embedOnce));
    expect(err).toBeInstanceOf(UpstreamTimeoutError);
    expect(mayBeBilled(err)).toBe(true);
    expect(told).toEqual(['embeddings']);
  });

  it('never retries a timed-out paid call, here or at a backup, without room for another bill', async () => {
    const [primaryKey, backupKey] = [simKey(), simKey()];
    await simConfigure(primaryKey, { faults: [{ kind: 'timeout', endpoint: '/v1/embeddings', times: 1 }] });
    const { deps, sleeps } = routerHarness([
      simTarget(providerName(), primaryKey, { timeoutMs: 300 }),
      simTarget(providerName('backup'), backupKey),
    ]);
    const err = await failing(callProviders(deps, 'embeddings', FAST_POLICY, embedOnce));
    expect(err).toBeInstanceOf(UpstreamTimeoutError);
    expect(err).toMatchObject({ status: 504 });
    expect(sleeps).toEqual([]);
    expect((await simRequests(primaryKey))['/v1/embeddings']).toBe(1);
    expect((await simRequests(backupKey))['/v1/embeddings']).toBeUndefined();
  });

  it('retries a timed-out moderation, which is free', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'timeout', endpoint: '/v1/moderations', times: 1 }] });
    const { deps, sleeps } = routerHarness([simTarget(providerName(), key, { timeoutMs: 300 })]);
    const moderateOnce = (target: ProviderTarget, model: string) =>
      target.client.moderations.create({ model, input: 'hello' }).then((r) => r.results.length);
    const served = await callProviders(deps, 'moderation', FAST_POLICY, moderateOnce);
    expect(served).toMatchObject({ value: 1, attempts: 2, retries: 1 });
    expect(sleeps).toEqual([1000]);
  });

  it.each([
    ['400', { kind: 'status', status: 400 }, 400, 'invalid_request_error'],
    ['404 model_not_found', { kind: 'status', status: 404 }, 404, 'invalid_request_error'],
    ['422', { kind: 'status', status: 422 }, 422, 'invalid_request_error'],
  ])('never retries a %s and passes its status and type through', async (_, fault, status, type) => {
    const key = simKey();
    await simConfigure(key, { faults: [fault] });
    const { deps, sleeps } = routerHarness([simTarget(providerName(), key)]);
    const err = await failing(callProviders(deps, 'embeddings', FAST_POLICY, embedOnce));
    expect(err).toBeInstanceOf(UpstreamRequestError);
    expect(err).toMatchObject({ status, type });
    expect(sleeps).toEqual([]);
    expect((await simRequests(key))['/v1/embeddings']).toBe(1);
  });

  it.each([
    ['401 (our key is bad)', { kind: 'status', status: 401 }, 502, 'upstream_error'],
    ['403', { kind: 'status', status: 403 }, 502, 'upstream_error'],
    [
      '429 insufficient_quota',
      { kind: 'status', status: 429, code: 'insufficient_quota' },
      503,
      'provider_unavailable',
    ],
  ])('never retries a %s, and does not blame the client', async (_, fault, status, code) => {
    const key = simKey();
    await simConfigure(key, { faults: [fault] });
    const { deps, sleeps } = routerHarness([simTarget(providerName(), key)]);
    const err = await failing(callProviders(deps, 'embeddings', FAST_POLICY, embedOnce));
    expect(err).toMatchObject({ status, code });
    expect((err as Error).message).not.toContain(key);
    expect(sleeps).toEqual([]);
    expect((await simRequests(key))['/v1/embeddings']).toBe(1);
  });
});

describe('callProviders and the request id', () => {
  it("sends the gateway's request id upstream on every attempt, as x-client-request-id", async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 503, times: 1 }] });
    const target = simTarget(providerName(), key);
    const sent: (string | null)[] = [];
    target.client = target.client.withOptions({
      fetch: (url, init) => {
        sent.push(new Headers(init?.headers).get('x-client-request-id'));
        return fetch(url, init);
      },
    });
    const { deps } = routerHarness([target]);
    await callProviders({ ...deps, requestId: 'req_abc' }, 'embeddings', FAST_POLICY, embedOnce);
    expect(sent).toEqual(['req_abc', 'req_abc']);
    // Without one, nothing is invented.
    await callProviders(deps, 'embeddings', FAST_POLICY, embedOnce);
    expect(sent[2]).toBeNull();
  });
});

describe('callProviders with the circuit breaker', () => {
  it('opens after consecutive failures and then fails fast with 503 and no upstream call', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 500 }] });
    const { deps } = routerHarness([simTarget(providerName(), key)], {
      failureThreshold: 3,
      openSeconds: 30,
    });
    await failing(callProviders(deps, 'embeddings', FAST_POLICY, embedOnce));
    // The third failure opened the breaker, so the fourth attempt was never made.
    expect((await simRequests(key))['/v1/embeddings']).toBe(3);
    const err = await failing(callProviders(deps, 'embeddings', FAST_POLICY, embedOnce));
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect(err).toMatchObject({ status: 503, code: 'provider_unavailable', retryAfter: 30 });
    expect((await simRequests(key))['/v1/embeddings']).toBe(3);
  });

  it('shares the trip with another isolate, and half-open lets exactly one of 20 concurrent calls through', async () => {
    const key = simKey();
    const name = providerName();
    await simConfigure(key, { faults: [{ kind: 'status', status: 503 }] });
    // Two "isolates": separate clients, breakers and clocks over the same Redis.
    const a = routerHarness([simTarget(name, key)], { failureThreshold: 2, openSeconds: 10 });
    const b = routerHarness([simTarget(name, key)], { failureThreshold: 2, openSeconds: 10 });
    await failing(callProviders(a.deps, 'embeddings', FAST_POLICY, embedOnce));
    expect(await failing(callProviders(b.deps, 'embeddings', FAST_POLICY, embedOnce))).toBeInstanceOf(
      CircuitOpenError,
    );
    expect((await simRequests(key))['/v1/embeddings']).toBe(2);

    await simConfigure(key, { faults: [] });
    a.clock.now += 11_000;
    b.clock.now += 11_000;
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        callProviders((i % 2 ? a : b).deps, 'embeddings', FAST_POLICY, embedOnce),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected' && r.reason instanceof CircuitOpenError),
    ).toHaveLength(19);
    expect((await simRequests(key))['/v1/embeddings']).toBe(3);

    // The probe's success closed the breaker for everyone.
    await Promise.all([a.settle(), b.settle()]);
    await expect(callProviders(b.deps, 'embeddings', FAST_POLICY, embedOnce)).resolves.toMatchObject({
      value: 1,
    });
  });

  it('a failed probe re-opens the breaker without retrying', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 500 }] });
    const h = routerHarness([simTarget(providerName(), key)], { failureThreshold: 1, openSeconds: 5 });
    await failing(callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce));
    h.clock.now += 6_000;
    await failing(callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce));
    expect((await simRequests(key))['/v1/embeddings']).toBe(2);
    const err = await failing(callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce));
    expect(err).toMatchObject({ code: 'provider_unavailable', retryAfter: 5 });
  });

  it("never closes a half-open breaker for a probe the gateway's own rate limit held back", async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 500, times: 1 }] });
    const name = providerName();
    const h = routerHarness([simTarget(name, key)], { failureThreshold: 1, openSeconds: 5 });
    await failing(callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce));
    h.clock.now += 6_000;
    // The probe is granted, then our own upstream limit refuses the call: no verdict on the provider.
    const limited = { ...h.deps, admit: async () => 1_000 };
    const err = await failing(callProviders(limited, 'embeddings', FAST_POLICY, embedOnce));
    expect(err).toMatchObject({ code: 'upstream_capacity' });
    await h.settle();
    const breakerName = `${name}:text-embedding-3-small`;
    expect(await h.deps.breaker.inspect(breakerName)).toMatchObject({
      state: 'half_open',
      retryAfterSeconds: 0,
    });
    // The next caller probes at once, and its success closes the breaker.
    await callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce);
    await h.settle();
    expect(await h.deps.breaker.inspect(breakerName)).toMatchObject({ state: 'closed' });
  });

  it('never opens for 429 rate_limit_exceeded, however many: the provider is up, the account is busy', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 429 }] });
    const name = providerName();
    const h = routerHarness([simTarget(name, key)], { failureThreshold: 2 });
    for (let i = 0; i < 4; i++) {
      const err = await failing(
        callProviders(h.deps, 'embeddings', { ...FAST_POLICY, maxRetries: 1 }, embedOnce),
      );
      // Each 429 names a 1 s reset (x-ratelimit-reset-requests, no retry-after): waited before the retry.
      expect(err).toMatchObject({ status: 429, code: 'upstream_rate_limited', retryAfter: 1 });
      h.clock.now += 1000;
    }
    expect(h.sleeps.every((ms) => ms >= 1000)).toBe(true);
    await h.settle();
    expect((await simRequests(key))['/v1/embeddings']).toBe(8);
    expect(await h.deps.breaker.inspect(`${name}:text-embedding-3-small`)).toMatchObject({
      state: 'closed',
      failures: 0,
    });
  });

  it("shares a 429's wait with every isolate: until it passes they are refused 429 with no upstream call", async () => {
    const key = simKey();
    const name = providerName();
    await simConfigure(key, { faults: [{ kind: 'status', status: 429, retry_after_s: 30, times: 1 }] });
    const a = routerHarness([simTarget(name, key)]);
    const b = routerHarness([simTarget(name, key)]);
    const first = await failing(callProviders(a.deps, 'embeddings', FAST_POLICY, embedOnce));
    expect(first).toMatchObject({ status: 429, code: 'upstream_rate_limited', retryAfter: 30 });
    await a.settle();
    const held = await failing(callProviders(b.deps, 'embeddings', FAST_POLICY, embedOnce));
    expect(held).toBeInstanceOf(RateLimitError);
    expect(held).toMatchObject({ code: 'upstream_rate_limited' });
    // Shared for at most the policy's longest wait (20 s), then the next caller finds out again.
    expect((held as RateLimitError).retryAfter).toBeGreaterThanOrEqual(19);
    expect((held as RateLimitError).retryAfter).toBeLessThanOrEqual(20);
    expect((await simRequests(key))['/v1/embeddings']).toBe(1);
    b.clock.now += 20_000;
    await expect(callProviders(b.deps, 'embeddings', FAST_POLICY, embedOnce)).resolves.toMatchObject({
      value: 1,
    });
  });

  it('gives a half-open probe that met a 429 back, without opening or closing the breaker', async () => {
    const key = simKey();
    const name = providerName();
    await simConfigure(key, { faults: [{ kind: 'status', status: 500, times: 1 }] });
    const h = routerHarness([simTarget(name, key)], { failureThreshold: 1, openSeconds: 5 });
    await failing(callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce));
    h.clock.now += 6_000;
    await simConfigure(key, { faults: [{ kind: 'status', status: 429, times: 1 }] });
    expect(await failing(callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce))).toMatchObject({
      code: 'upstream_rate_limited',
    });
    await h.settle();
    expect(await h.deps.breaker.inspect(`${name}:text-embedding-3-small`)).toMatchObject({
      state: 'half_open',
      retryAfterSeconds: 0,
    });
  });

  it('does not count a client error (400) toward the breaker', async () => {
    const key = simKey();
    await simConfigure(key, { faults: [{ kind: 'status', status: 400 }] });
    const h = routerHarness([simTarget(providerName(), key)], { failureThreshold: 1 });
    for (let i = 0; i < 3; i++) await failing(callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce));
    await h.settle();
    expect((await simRequests(key))['/v1/embeddings']).toBe(3);
  });
});

describe('callProviders with a backup', () => {
  it('falls back when the primary keeps failing, and says who served', async () => {
    const [primaryKey, backupKey] = [simKey(), simKey()];
    await simConfigure(primaryKey, { faults: [{ kind: 'status', status: 503 }] });
    const backupName = providerName('backup');
    const h = routerHarness([
      simTarget(providerName('openai'), primaryKey),
      simTarget(backupName, backupKey, { api: 'chat', models: { embeddings: 'gemini-embedding-001' } }),
    ]);
    const served = await callProviders(h.deps, 'embeddings', { ...FAST_POLICY, maxRetries: 1 }, embedOnce);
    expect(served).toMatchObject({
      provider: backupName,
      model: 'gemini-embedding-001',
      fallback: true,
      attempts: 3,
    });
    expect((await simRequests(backupKey))['/v1/embeddings']).toBe(1);
  });

  it('treats a spent account (429 insufficient_quota) as an outage: no retry, the backup serves', async () => {
    const [primaryKey, backupKey] = [simKey(), simKey()];
    // The simulator's account has no credit: every billable call is a 429 insufficient_quota.
    await simConfigure(primaryKey, { account_budget_usd: 0 });
    const backupName = providerName('backup');
    const h = routerHarness([
      simTarget(providerName('openai'), primaryKey),
      simTarget(backupName, backupKey, { api: 'chat', models: { embeddings: 'gemini-embedding-001' } }),
    ]);
    const served = await callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce);
    expect(served).toMatchObject({ provider: backupName, fallback: true, attempts: 2, retries: 0 });
    expect(h.sleeps).toEqual([]);
    expect((await simRequests(primaryKey))['/v1/embeddings']).toBe(1);
    // Alone, the gateway answers 503: the provider cannot serve, and waiting will not change that.
    const alone = routerHarness([simTarget(providerName('openai'), primaryKey)]);
    const err = await failing(callProviders(alone.deps, 'embeddings', FAST_POLICY, embedOnce));
    expect(err).toMatchObject({ status: 503 });
    expect((await simRequests(primaryKey))['/v1/embeddings']).toBe(2);
  });

  it('goes straight to the backup while the primary breaker is open', async () => {
    const [primaryKey, backupKey] = [simKey(), simKey()];
    await simConfigure(primaryKey, { faults: [{ kind: 'status', status: 500 }] });
    const h = routerHarness(
      [simTarget(providerName('openai'), primaryKey), simTarget(providerName('backup'), backupKey)],
      { failureThreshold: 2 },
    );
    await callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce);
    const served = await callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce);
    expect(served).toMatchObject({ fallback: true, attempts: 1, retries: 0 });
    expect((await simRequests(primaryKey))['/v1/embeddings']).toBe(2);
  });

  it('does not fall back on a request error: the backup would reject it too', async () => {
    const [primaryKey, backupKey] = [simKey(), simKey()];
    await simConfigure(primaryKey, { faults: [{ kind: 'status', status: 400 }] });
    const h = routerHarness([
      simTarget(providerName('openai'), primaryKey),
      simTarget(providerName('b'), backupKey),
    ]);
    expect(await failing(callProviders(h.deps, 'embeddings', FAST_POLICY, embedOnce))).toBeInstanceOf(
      UpstreamRequestError,
    );
    expect(await simRequests(backupKey)).toEqual({});
  });

  it('answers 503 provider_unavailable naming both when primary and backup are down', async () => {
    const [primaryKey, backupKey] = [simKey(), simKey()];
    await simConfigure(primaryKey, { faults: [{ kind: 'status', status: 503, retry_after_s: 4 }] });
    await simConfigure(backupKey, { faults: [{ kind: 'drop' }] });
    const [p, b] = [providerName('openai'), providerName('backup')];
    const h = routerHarness([simTarget(p, primaryKey), simTarget(b, backupKey)], { failureThreshold: 10 });
    const deps = { ...h.deps, billing: { retry: async () => true, abandoned: () => undefined } };
    const err = await failing(
      callProviders(deps, 'embeddings', { ...FAST_POLICY, maxRetries: 1 }, embedOnce),
    );
    expect(err).toBeInstanceOf(CircuitOpenError);
    // The backup's last attempt dropped: it may have been billed.
    expect(mayBeBilled(err)).toBe(true);
    expect(err).toMatchObject({ status: 503, code: 'provider_unavailable', retryAfter: 4 });
    expect((err as Error).message).toContain(`${p}: upstream_error`);
    expect((err as Error).message).toContain(`${b}: upstream_error`);
  });

  it('skips a backup that does not offer the capability', async () => {
    const [primaryKey, backupKey] = [simKey(), simKey()];
    await simConfigure(primaryKey, { faults: [{ kind: 'status', status: 503 }] });
    const h = routerHarness([
      simTarget(providerName('openai'), primaryKey),
      simTarget(providerName('b'), backupKey, { models: { text: 'claude-sonnet' } }),
    ]);
    const err = await failing(
      callProviders(h.deps, 'embeddings', { ...FAST_POLICY, maxRetries: 0 }, embedOnce),
    );
    expect(err).toBeInstanceOf(UpstreamError);
    expect(await simRequests(backupKey)).toEqual({});
  });
});
