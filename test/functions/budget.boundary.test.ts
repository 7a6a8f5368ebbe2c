import { describe, expect, it } from 'vitest';
import { createGateway } from '../../functions/index';
import { createBudget } from '../../lib/budget';
import { createDeps, newIsolateState } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import { bindings, envWith } from '../support/env';
import { appCaller } from '../support/gateway';
import { createTestKey } from '../support/keys';
import { simKey, simRequests } from '../support/providers';
import { dataOf, warmTokenizer } from './openai-proxy.support';

warmTokenizer();

// The day boundary end to end (#14): the gateway runs on a clock the test moves across midnight of a
// day no other test uses, while a stream reserved before midnight is held open by its client.
const OLD = '2025-02-27';
const NEW = '2025-02-28';
const MIDNIGHT = Date.UTC(2025, 1, 28);

interface BudgetBody {
  day: string;
  key: { spent_usd: number; reserved_usd: number; remaining_usd: number; calls: number };
}

/** The whole gateway with `clock` as its `now()`; each request's after-response work is kept. */
function gatewayAt(clock: { ms: number }) {
  const isolate = newIsolateState();
  const app = createGateway((env) => ({ ...createDeps(env, isolate), now: () => clock.ms }));
  const env = envWith({ OPENAI_API_KEY: simKey() });
  const { request, settled } = appCaller(app, env);
  const budget = async (key: string) => (await request('/v1/budget', key)).json<BudgetBody>();
  return { request, budget, env, settled };
}

const chat = (maxTokens: number, stream = false) => ({
  model: 'gpt-4.1-mini',
  messages: [{ role: 'user', content: 'Describe a waterproof hiking boot for wet autumn trails' }],
  max_completion_tokens: maxTokens,
  ...(stream ? { stream: true } : {}),
});

describe('a stream open across midnight, through the HTTP API', () => {
  it('blocks a new-day call that would overflow, lands its settle on the new day, and leaves the old day nothing', async () => {
    const clock = { ms: MIDNIGHT - 30_000 };
    const gateway = gatewayAt(clock);
    // About $0.0064 is reserved for 4,000 output tokens: one fits in the key's $0.01, two do not.
    const { key, id } = await createTestKey({ rpm: 1000, daily_budget_usd: 0.01 });
    const stream = await gateway.request('/openai/v1/chat/completions', key, chat(4000, true));
    expect(stream.status).toBe(200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });
    const before = await gateway.budget(key);
    expect(before.day).toBe(OLD);
    const reserved = before.key.reserved_usd;
    expect(reserved).toBeGreaterThan(0.005);
    expect(reserved).toBeLessThan(0.01);

    clock.ms = MIDNIGHT + 30_000;
    // The new day counts the open stream's reservation as its own.
    expect(await gateway.budget(key)).toMatchObject({
      day: NEW,
      key: { spent_usd: 0, reserved_usd: reserved },
    });
    const refused = await gateway.request('/openai/v1/chat/completions', key, chat(4000));
    expect(refused.status).toBe(429);
    const { error } = await refused.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('budget_exceeded');
    expect(error.message).toContain(`$${reserved.toFixed(6)} reserved of $0.01`);
    // What still fits beside it is served.
    expect((await gateway.request('/openai/v1/chat/completions', key, chat(500))).status).toBe(200);

    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      text += decoder.decode(next.value, { stream: true });
    }
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(dataOf(text.split('\n\n')).length).toBeGreaterThan(1);
    await gateway.settled();

    const after = await gateway.budget(key);
    expect(after).toMatchObject({ day: NEW, key: { reserved_usd: 0, calls: 2 } });
    expect(after.key.spent_usd).toBeGreaterThan(0);
    expect(after.key.spent_usd).toBeLessThan(0.01);
    // The old day lost the lease and gained no spend.
    const ledger = createBudget({ ...createDeps(parseEnv(bindings)), now: () => clock.ms });
    expect((await ledger.read([`key:${id}`], OLD)).scopes[0]).toMatchObject({
      spentNanos: 0,
      reservedNanos: 0,
      calls: 0,
    });
    expect((await simRequests(gateway.env.OPENAI_API_KEY as string))['/v1/chat/completions']).toBe(2);
  });
});
