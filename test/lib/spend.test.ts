import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { type BudgetAlert, sendBudgetAlert } from '../../lib/alerts';
import { createApp } from '../../lib/app';
import { createBudget } from '../../lib/budget';
import { createDeps } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import { type ErrorBody, InvalidModelOutputError } from '../../lib/errors';
import { protect } from '../../lib/guards';
import { costOf, createPriceTable, estimateTextCost, type ModelPrice } from '../../lib/pricing';
import { servicesOf } from '../../lib/request-services';
import { loadTokenCounter } from '../../lib/tokens';
import { bindings, envWith } from '../support/env';
import { bearer, createTestKey } from '../support/keys';
import { simConfigure, simKey, simRequests } from '../support/providers';

const { estimateInputTokens } = await loadTokenCounter();

const Answer = z.object({ answer: z.string().max(60) });
const TASK = {
  name: 'answer',
  schema: Answer,
  instructions: 'Answer briefly.',
  input: 'Boots for rain?',
  maxOutputTokens: 100,
};
const PRICE = createPriceTable().price('gpt-6-luna') as ModelPrice;
/** The worst case of one structured call plus its repair, as an endpoint would reserve. */
const ESTIMATE =
  2 *
  estimateTextCost(
    PRICE,
    estimateInputTokens({
      instructions: TASK.instructions,
      input: TASK.input,
      schema: z.toJSONSchema(Answer),
    }) * 2,
    TASK.maxOutputTokens,
  );

/** A spending endpoint shaped like the real ones, on its own gateway-wide ledger `scope`. */
function spendingApp(scope: string) {
  const app = createApp(createDeps);
  app.use(protect(() => false));
  app.post('/v1/spend', async (c) => {
    const result = await servicesOf(c)
      .spend({ globalScope: scope })
      .run(ESTIMATE, () => servicesOf(c).providers().structured(TASK), {
        value: (r) => costOf(PRICE, r.usage),
        error: (err) => (err instanceof InvalidModelOutputError && err.usage ? costOf(PRICE, err.usage) : 0),
      });
    return c.json(result.data);
  });
  return app;
}

async function post(app: ReturnType<typeof spendingApp>, key: string, env: Cloudflare.Env) {
  const ctx = createExecutionContext();
  const res = await app.request('/v1/spend', { method: 'POST', headers: bearer(key) }, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Reads a ledger scope today, outside any request. */
async function scopeState(scope: string) {
  const ledger = createBudget(createDeps(parseEnv(bindings)));
  return (await ledger.read([scope])).scopes[0];
}

const scopeName = () => `test-global-${crypto.randomUUID()}`;

afterEach(() => vi.restoreAllMocks());

describe('spending through the budget', () => {
  it('reserves the worst case, then settles exactly what the call cost on the gateway and the key', async () => {
    const scope = scopeName();
    const { key, id } = await createTestKey();
    const res = await post(spendingApp(scope), key, envWith({ OPENAI_API_KEY: simKey() }));
    expect(res.status).toBe(200);
    const [global, perKey] = [await scopeState(scope), await scopeState(`key:${id}`)];
    expect(global).toMatchObject({ reservedNanos: 0, calls: 1 });
    expect(global?.spentNanos).toBeGreaterThan(0);
    expect(global?.spentNanos).toBeLessThanOrEqual(ESTIMATE);
    expect(perKey).toMatchObject({ spentNanos: global?.spentNanos, calls: 1, reservedNanos: 0 });
  });

  it('refuses with 429 budget_exceeded, no upstream call, when the key budget cannot cover the worst case', async () => {
    const simulatorKey = simKey();
    const { key } = await createTestKey({ daily_budget_usd: 0.000_000_5 });
    const res = await post(spendingApp(scopeName()), key, envWith({ OPENAI_API_KEY: simulatorKey }));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const { error } = await res.json<ErrorBody>();
    expect(error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    expect(error.message).toMatch(/daily budget of key key_[0-9a-f]+ cannot cover/);
    expect(error.message).toMatch(/resets at \d{4}-\d\d-\d\dT/);
    expect(await simRequests(simulatorKey)).toEqual({});
  });

  it('releases the reservation when the call fails before costing anything', async () => {
    const scope = scopeName();
    const simulatorKey = simKey();
    await simConfigure(simulatorKey, { faults: [{ kind: 'status', status: 400 }] });
    const { key } = await createTestKey();
    const res = await post(spendingApp(scope), key, envWith({ OPENAI_API_KEY: simulatorKey }));
    expect(res.status).toBe(400);
    expect(await scopeState(scope)).toMatchObject({ spentNanos: 0, reservedNanos: 0 });
  });

  it('settles what a repair that stayed invalid was billed, though the client got a 502', async () => {
    const scope = scopeName();
    const simulatorKey = simKey();
    await simConfigure(simulatorKey, { faults: [{ kind: 'schema_violation' }] });
    const { key } = await createTestKey();
    const res = await post(spendingApp(scope), key, envWith({ OPENAI_API_KEY: simulatorKey }));
    expect(res.status).toBe(502);
    const state = await scopeState(scope);
    expect(state?.spentNanos).toBeGreaterThan(0);
    expect(state?.reservedNanos).toBe(0);
  });

  it('never spends past the budget with 200 concurrent requests, and leaves nothing reserved', async () => {
    const scope = scopeName();
    // The key may spend the whole gateway budget: the gateway's is the one under test.
    const { key } = await createTestKey({ rpm: 1000, budget_share: 1 });
    // A gateway budget that fits about 40 worst cases.
    const budgetUsd = (ESTIMATE * 40) / 1e9;
    const env = envWith({ OPENAI_API_KEY: simKey(), OPENAI_DAILY_BUDGET_USD: String(budgetUsd) });
    const app = spendingApp(scope);
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () => post(app, key, env).then((r) => r.status)),
    );
    const served = statuses.filter((s) => s === 200).length;
    expect(served).toBeGreaterThanOrEqual(40);
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
    const state = await scopeState(scope);
    expect(state?.spentNanos).toBeLessThanOrEqual(Math.round(budgetUsd * 1e9));
    expect(state?.reservedNanos).toBe(0);
    expect(state?.calls).toBe(served);
  });

  it('alerts once per threshold per day, however many requests cross it together', async () => {
    const warnings: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: string) => void warnings.push(line));
    const scope = scopeName();
    const { key } = await createTestKey({ rpm: 1000, budget_share: 1 });
    const budgetUsd = (ESTIMATE * 10) / 1e9;
    const env = envWith({
      OPENAI_API_KEY: simKey(),
      OPENAI_DAILY_BUDGET_USD: String(budgetUsd),
      OPENAI_ALERT_THRESHOLD_USD: String(budgetUsd / 1e6),
    });
    const app = spendingApp(scope);
    await Promise.all(Array.from({ length: 20 }, () => post(app, key, env)));
    await Promise.all(Array.from({ length: 5 }, () => post(app, key, env)));
    const alerts = warnings.map((l) => JSON.parse(l)).filter((l) => l.msg === 'budget alert');
    expect(alerts.filter((a) => a.level === 'threshold')).toHaveLength(1);
    expect((await scopeState(scope))?.alertsSent).toHaveLength(1);
  });
});

describe('sendBudgetAlert', () => {
  const alert: BudgetAlert = {
    day: '2026-11-27',
    level: 'threshold',
    thresholdUsd: 80,
    spentUsd: 80.5,
    limitUsd: 100,
  };

  it('POSTs Slack-compatible JSON to the webhook and logs the alert', async () => {
    const sent: { url: string; body: Record<string, unknown> }[] = [];
    const log = { warn: vi.fn(), error: vi.fn() };
    await sendBudgetAlert(
      {
        log,
        webhookUrl: 'https://hooks.example/alert',
        fetch: async (url, init) => {
          sent.push({ url: String(url), body: JSON.parse(String(init?.body)) });
          return new Response('ok');
        },
      },
      alert,
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe('https://hooks.example/alert');
    expect(sent[0]?.body.text).toMatch(/reached \$80\.50, past the alert threshold of \$80\.00/);
    expect(log.warn).toHaveBeenCalledWith('budget alert', expect.objectContaining({ level: 'threshold' }));
  });

  it('logs and swallows a failing webhook', async () => {
    const log = { warn: vi.fn(), error: vi.fn() };
    await sendBudgetAlert(
      { log, webhookUrl: 'https://hooks.example/x', fetch: async () => new Response('', { status: 500 }) },
      alert,
    );
    expect(log.error).toHaveBeenCalledWith('budget alert webhook failed', { status: 500 });
  });
});

describe('budgetFor', () => {
  it('uses the configured time zone for the budget day', async () => {
    const app = createApp(createDeps);
    app.use(protect(() => false));
    app.get('/v1/day', async (c) => c.json(await servicesOf(c).budget().read(['global'])));
    const { key } = await createTestKey();
    const ctx = createExecutionContext();
    const res = await app.request(
      '/v1/day',
      { headers: bearer(key) },
      envWith({ BUDGET_TIMEZONE: 'Pacific/Kiritimati' }),
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const body = await res.json<{ day: string; resetsAt: string }>();
    const expected = new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Kiritimati' }).format(new Date());
    expect(body.day).toBe(expected);
  });
});
