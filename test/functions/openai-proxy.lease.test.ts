import { describe, expect, it } from 'vitest';
import { createGateway } from '../../functions/index';
import { createBudget } from '../../lib/budget';
import { leasesKey, totalsKey } from '../../lib/budget/keys';
import { createDeps, newIsolateState } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import { BUDGET_RENEW } from '../../lib/scripts/budget-lease';
import { envWith } from '../support/env';
import { appCaller } from '../support/gateway';
import { createTestKey } from '../support/keys';
import { simConfigure, simKey } from '../support/providers';
import { warmTokenizer } from './openai-proxy.support';

warmTokenizer();

// A stream that outlives its reservation's lease renews it while it runs (#14). The lease is made
// small: one 1 s attempt, no retries or backoff, no margin, so 2 s (renewed every ~667 ms); the
// simulator writes the answer's 27 events 120 ms apart, over 3 s in all. The clock is real: the subject
// is how long a lease lasts while a stream runs.
const LEASE_MS = 2000;
const SHORT_LEASE = {
  OPENAI_TIMEOUT_SECONDS: '1',
  OPENAI_MAX_RETRIES: '0',
  OPENAI_RETRY_MAX_DELAY_MS: '0',
  BUDGET_LEASE_MARGIN_SECONDS: '0',
};
const chat = {
  model: 'gpt-4.1-mini',
  messages: [{ role: 'user', content: 'Describe a waterproof hiking boot for wet autumn trails' }],
  stream: true,
};

interface KeyFigures {
  spent_usd: number;
  reserved_usd: number;
  calls: number;
}

/** The gateway on a slow-streaming simulator account, counting the lease renewals its Redis clients send. */
async function streamingGateway(overrides: Record<string, string> = {}) {
  const isolate = newIsolateState();
  const counted = { renewals: 0 };
  isolate.storeMiddleware = (req, next) => {
    const body = req.body as unknown[];
    for (const command of Array.isArray(body[0]) ? (body as unknown[][]) : [body]) {
      if (command[1] === BUDGET_RENEW.sha1 || command[1] === BUDGET_RENEW.source) counted.renewals += 1;
    }
    return next(req);
  };
  const app = createGateway((env) => createDeps(env, isolate));
  const sim = simKey();
  await simConfigure(sim, { stream_interval_ms: 120 });
  const env = envWith({ OPENAI_API_KEY: sim, ...SHORT_LEASE, ...overrides });
  const { key, id } = await createTestKey({ rpm: 1000 });
  const caller = appCaller(app, env);
  const request = (path: string, json?: unknown) => caller.request(path, key, json);
  /** The key's figures today, without waiting for any request's after-response work. */
  const figures = async () =>
    (await (await request('/v1/budget')).json<{ day: string; key: KeyFigures }>()).key;
  const ledger = createBudget(createDeps(parseEnv(env)));
  return { request, figures, ledger, counted, id, settled: caller.settled };
}

/** The key's leases and `ended:` marks of today and yesterday (a run may straddle midnight). */
async function leasesOf(
  ledger: ReturnType<typeof createBudget>,
  redis: ReturnType<typeof createDeps>['redis'],
  scope: string,
) {
  const day = (await ledger.read([scope])).day;
  const days = [day, new Date(Date.parse(day) - 86_400_000).toISOString().slice(0, 10)];
  const scores = (
    await Promise.all(
      days.map((d) => redis.zrange<(string | number)[]>(leasesKey(d, scope), 0, -1, { withScores: true })),
    )
  )
    .flat()
    .filter((v): v is number => typeof v === 'number');
  const marks = (await Promise.all(days.map((d) => redis.hkeys(totalsKey(d, scope)))))
    .flat()
    .filter((field) => field.startsWith('ended:'));
  return { scores, marks };
}

describe('a stream longer than its budget lease', () => {
  it('stays reserved until it ends, is never swept or charged while it runs, and leaves nothing reserved', async () => {
    const gateway = await streamingGateway();
    const { redis } = createDeps(parseEnv(envWith({})));
    const scope = `key:${gateway.id}`;
    const res = await gateway.request('/openai/v1/chat/completions', chat);
    expect(res.status).toBe(200);
    const opened = Date.now();
    const reserved = (await gateway.figures()).reserved_usd;
    expect(reserved).toBeGreaterThan(0);

    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    let checked = 0;
    let swept: string | undefined;
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      text += decoder.decode(next.value, { stream: true });
      // Once, past the lease it was reserved with, while the stream is still open: a reserve on the
      // key's scope sweeps whatever expired, and a read counts an expired lease as spent.
      if (swept || Date.now() - opened < LEASE_MS * 1.1 || text.includes('[DONE]')) continue;
      const sweep = await gateway.ledger.reserve([{ scope, limit: Number.MAX_SAFE_INTEGER }], 0);
      if (!sweep.ok) throw new Error('the sweep was refused');
      swept = `ended:${sweep.reservation.id}`;
      await gateway.ledger.release(sweep.reservation);
      expect(await gateway.figures()).toMatchObject({ spent_usd: 0, reserved_usd: reserved, calls: 0 });
      const { scores, marks } = await leasesOf(gateway.ledger, redis, scope);
      expect(scores).toHaveLength(1);
      expect(scores[0]).toBeGreaterThan(opened + LEASE_MS);
      expect(marks).toEqual([swept]); // the sweep's own, released
      checked = gateway.counted.renewals;
    }
    expect(swept).toBeDefined();
    expect(checked).toBeGreaterThan(0);
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);

    await gateway.settled();
    const after = await gateway.figures();
    expect(after).toMatchObject({ reserved_usd: 0, calls: 1 });
    expect(after.spent_usd).toBeGreaterThan(0);
    expect(after.spent_usd).toBeLessThan(reserved);
    const { scores, marks } = await leasesOf(gateway.ledger, redis, scope);
    expect({ scores, marks }).toEqual({ scores: [], marks: [swept] });
  });

  it('stops renewing when the client cancels it, and its reservation is settled in full', async () => {
    // Not read on after the client left (PROXY_DRAIN_SECONDS=0): the usage never arrives.
    const gateway = await streamingGateway({ PROXY_DRAIN_SECONDS: '0' });
    const res = await gateway.request('/openai/v1/chat/completions', chat);
    const reserved = (await gateway.figures()).reserved_usd;
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    // Read until the lease has been renewed once, then hang up.
    while (gateway.counted.renewals === 0) expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    await gateway.settled();
    const renewals = gateway.counted.renewals;
    // No usage arrived: the whole reservation is charged, and nothing stays reserved.
    expect(await gateway.figures()).toMatchObject({ spent_usd: reserved, reserved_usd: 0, calls: 1 });
    // A timer left behind would renew (in vain) within one third of the lease.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS / 2));
    expect(gateway.counted.renewals).toBe(renewals);
  });
});
