import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../functions/index';
import { createBudget } from '../../lib/budget';
import { createDeps } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import { bindings } from '../support/env';
import { adminAuth, bearer, createTestKey } from '../support/keys';

interface BudgetBody {
  day: string;
  timezone: string;
  scope: 'key' | 'gateway';
  limit_usd: number;
  spent_usd: number;
  reserved_usd: number;
  remaining_usd: number;
  alert_threshold_usd: number;
  alerts_sent: unknown[];
  resets_at: string;
  key: null | {
    id: string;
    limit_usd: number | null;
    spent_usd: number;
    remaining_usd: number | null;
    calls: number;
  };
  keys?: { id: string; spent_usd: number }[];
  history: { day: string; spent_usd: number; calls: number }[];
}

const ledger = () => createBudget(createDeps(parseEnv(bindings)));

/** Spends on a key's scope as a request would (reserve, settle), without a provider call. */
async function spendOnKey(id: string, nanos: number) {
  const reserved = await ledger().reserve([{ scope: `key:${id}`, limit: Number.MAX_SAFE_INTEGER }], nanos);
  if (!reserved.ok) throw new Error('reserve refused');
  await ledger().settle(reserved.reservation, nanos);
}

const getBudget = (headers: Record<string, string>) =>
  exports.default.fetch('http://gateway/v1/budget', { headers });

describe('GET /v1/budget', () => {
  it("shows a client key its own day and history, nothing of the gateway's or other keys'", async () => {
    const { key, id } = await createTestKey({ daily_budget_usd: 2 });
    const other = await createTestKey();
    await spendOnKey(id, 250_000_000);
    await spendOnKey(other.id, 900_000_000);
    const res = await getBudget(bearer(key));
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as BudgetBody;
    expect(body).toMatchObject({ timezone: 'UTC', scope: 'key', limit_usd: 2, spent_usd: 0.25, calls: 1 });
    expect(body.remaining_usd).toBeCloseTo(1.75, 6);
    expect(body.day).toBe(new Date().toISOString().slice(0, 10));
    expect(Date.parse(body.resets_at)).toBe(Date.parse(`${body.day}T00:00:00Z`) + 86_400_000);
    expect(body.key).toMatchObject({ id, limit_usd: 2, spent_usd: 0.25, remaining_usd: 1.75, calls: 1 });
    expect(body.keys).toBeUndefined();
    expect(body).not.toHaveProperty('alert_threshold_usd');
    expect(body).not.toHaveProperty('alerts_sent');
    // Neither the gateway's limit (100) nor the other key's spend (0.9) appears anywhere.
    expect(text).not.toMatch(/\b100\b|0\.9\b|global/);
    expect(text).not.toContain(other.id);
    expect(Array.isArray(body.history)).toBe(true);
  });

  it("shows the admin the gateway's day, its alerts and thresholds", async () => {
    const body = await (await getBudget(adminAuth)).json<BudgetBody>();
    expect(body).toMatchObject({ scope: 'gateway', limit_usd: 100, alert_threshold_usd: 80, key: null });
    expect(body.remaining_usd).toBeCloseTo(body.limit_usd - body.spent_usd - body.reserved_usd, 6);
    expect(Array.isArray(body.alerts_sent)).toBe(true);
  });

  it('charges a reservation whose settle never came (its isolate died): shown as spent, and it still refuses', async () => {
    const { key, id } = await createTestKey({ daily_budget_usd: 0.002 });
    const lost = await ledger().reserve([{ scope: `key:${id}`, limit: 2_000_000 }], 1_900_000, {
      leaseMs: 1,
    });
    expect(lost.ok).toBe(true);
    // Its lease is over by the time the next request reads the ledger (each round trip takes longer).
    const budget = await (await getBudget(bearer(key))).json<BudgetBody>();
    expect(budget.key).toMatchObject({ spent_usd: 0.0019, remaining_usd: 0.0001 });
    const res = await exports.default.fetch('http://gateway/v1/opportunities', {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json' },
      body: JSON.stringify({ intent: 'Waterproof hiking boots for a rainy autumn trip' }),
    });
    expect(res.status).toBe(429);
    expect((await res.json<{ error: { code: string } }>()).error.code).toBe('budget_exceeded');
  });

  it("gives a key without its own budget KEY_BUDGET_SHARE of the gateway's, or its own share", async () => {
    const plain = await createTestKey();
    await spendOnKey(plain.id, 1_000);
    const body = await (await getBudget(bearer(plain.key))).json<BudgetBody>();
    // The test gateway's budget is $100 and KEY_BUDGET_SHARE defaults to 0.25.
    expect(body.key).toMatchObject({ limit_usd: 25, spent_usd: 0.000_001, calls: 1 });
    expect(body.key?.remaining_usd).toBeCloseTo(25 - 0.000_001, 9);
    const shared = await createTestKey({ budget_share: 0.6 });
    expect((await (await getBudget(bearer(shared.key))).json<BudgetBody>()).limit_usd).toBe(60);
  });

  it("shows the admin every key's figures", async () => {
    const { id } = await createTestKey();
    await spendOnKey(id, 3_000_000_000);
    const body = await (await getBudget(adminAuth)).json<BudgetBody>();
    expect(body.key).toBeNull();
    expect(body.keys?.find((k) => k.id === id)).toMatchObject({ spent_usd: 3 });
  });
});

describe('the hourly budget rollover (cron)', () => {
  it('archives the finished day into the history, idempotently, even when run late', async () => {
    const run = async (scheduledTime: number) => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ cron: '5 * * * *', scheduledTime }), bindings, ctx);
      await waitOnExecutionContext(ctx);
    };
    // A day long past that no other test touches: 2025-03-14 ends, the cron runs on the 15th.
    await run(Date.UTC(2025, 2, 15, 0, 5));
    await run(Date.UTC(2025, 2, 15, 7, 5));
    const history = await ledger().history(1000);
    const entries = history.filter((d) => d.day === '2025-03-14');
    expect(entries).toEqual([{ day: '2025-03-14', spentNanos: 0, calls: 0, keys: {} }]);
  });
});
