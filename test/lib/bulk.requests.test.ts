import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { batchCost, bulkWorstCase } from '../../lib/bulk/cost';
import { inputLines, requestLine } from '../../lib/bulk/jsonl';
import { retrySlotsFor } from '../../lib/bulk/submit';
import { creativeTask } from '../../lib/creatives/prompt';
import { opportunitiesTask } from '../../lib/domain/opportunities-prompt';
import { costOf, createPriceTable, estimateTextCost, type ModelPrice } from '../../lib/pricing';
import { REASONING_ALLOWANCE } from '../../lib/providers/reasoning';
import { generateStructured } from '../../lib/providers/structured';
import { loadTokenCounter } from '../../lib/tokens';
import { FAST_POLICY, providerName, routerHarness, simKey, simTarget } from '../support/providers';

const PRICE = createPriceTable().price('gpt-6-luna') as ModelPrice;
// Loading the tokenizer takes seconds under the test transform; pay it at import, not inside a test.
const { estimateInputTokens } = await loadTokenCounter();
const tasks = [
  opportunitiesTask({ intent: 'Waterproof hiking boots for a rainy autumn trip' }),
  opportunitiesTask({
    intent: 'Gift ideas for a keen gardener',
    context: { locale: 'en-GB', price_band: 'mid' },
  }),
];

describe('the batch input file', () => {
  it('sends each item exactly the request body a single structured call sends', async () => {
    const target = simTarget(providerName(), simKey());
    const sent: unknown[] = [];
    target.client = target.client.withOptions({
      fetch: (url, init) => {
        if (String(url).endsWith('/responses')) sent.push(JSON.parse(String(init?.body)));
        return fetch(url, init);
      },
    });
    const task = tasks[1] as (typeof tasks)[number];
    await generateStructured(routerHarness([target]).deps, FAST_POLICY, task);
    expect(sent).toHaveLength(1);
    // Both carry the task's prompt-cache key, so a job's items share their cached prefix.
    expect(task.cacheKey).toMatch(/^opportunities-/);
    expect(sent[0]).toMatchObject({ prompt_cache_key: task.cacheKey });
    expect(JSON.parse(JSON.stringify(requestLine('gpt-6-luna', 7, task)))).toEqual({
      custom_id: '7',
      method: 'POST',
      url: '/v1/responses',
      body: sent[0],
    });
  });

  it('holds one newline-terminated line per item, custom_id the item index', async () => {
    const lines = inputLines('gpt-6-luna', [
      [3, tasks[0] as (typeof tasks)[number]],
      [
        5,
        creativeTask({
          opportunity: { id: 'o', product_category: 'Mugs', description: 'Steel mug' },
          target_audience: 'campers',
          brand_voice: 'calm',
          needs_visual: false,
        }),
      ],
    ]);
    const text = [...lines];
    expect(text.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    const parsed = text.map((line) => JSON.parse(line));
    expect(parsed.map((l) => [l.custom_id, l.body.text.format.name])).toEqual([
      ['3', 'opportunities'],
      ['5', 'creative'],
    ]);
  });
});

/** One call of `task` at the standard price: its exact input estimate and `outputTokens`. */
const costAt = (task: (typeof tasks)[number], outputTokens: number) =>
  estimateTextCost(
    PRICE,
    estimateInputTokens({
      instructions: task.instructions,
      input: task.input,
      schema: z.toJSONSchema(task.schema),
    }),
    outputTokens,
  );

describe('bulk cost', () => {
  it('reserves the first call only, at half the standard price, never below the exact estimate', async () => {
    // gpt-6-luna reasons: the cap is the answer's plus the default effort's allowance.
    const exact = tasks.map((task) => costAt(task, task.maxOutputTokens + REASONING_ALLOWANCE.low));
    const standard = exact.reduce((a, b) => a + b, 0);
    const reserved = await bulkWorstCase(PRICE, 'gpt-6-luna', tasks);
    expect(reserved).toBeGreaterThanOrEqual(Math.floor(standard / 2));
    // Splitting the safety margin adds at most one input token per item, and rounding a nano.
    const slack = tasks.length * (Math.ceil(PRICE.inputPerMillion * 1000) + 1);
    expect(reserved).toBeLessThanOrEqual(Math.ceil(standard / 2) + slack);
    expect(await bulkWorstCase(PRICE, 'gpt-6-luna', [...tasks, ...tasks])).toBe(2 * reserved);
    // Each retry slot adds the costliest item's call at twice its cap, at the standard price.
    const retries = tasks.map((task) => costAt(task, 2 * (task.maxOutputTokens + REASONING_ALLOWANCE.low)));
    const withRetries = await bulkWorstCase(PRICE, 'gpt-6-luna', tasks, 2);
    expect(withRetries - reserved).toBeGreaterThanOrEqual(2 * Math.max(...retries));
    expect(withRetries - reserved).toBeLessThanOrEqual(2 * (Math.max(...retries) + tasks.length * 1000));
  });

  it('gives cut-off answers retry slots: a percentage of the items, at least one, none at 0 %', () => {
    expect(retrySlotsFor(2, 1)).toBe(1);
    expect(retrySlotsFor(1000, 5)).toBe(50);
    expect(retrySlotsFor(1001, 5)).toBe(51);
    expect(retrySlotsFor(1000, 0)).toBe(0);
  });

  it('settles at exactly half the standard price, rounded up to a nano once for the whole job', () => {
    const round = { inputTokens: 100_000, cachedTokens: 0, outputTokens: 100_000 };
    expect(costOf(PRICE, round)).toBe(60_000_000);
    expect(batchCost(PRICE, round)).toBe(30_000_000);
    const odd = { inputTokens: 123_457, cachedTokens: 1_001, outputTokens: 98_765 };
    expect([0, 1]).toContain(2 * batchCost(PRICE, odd) - costOf(PRICE, odd));
  });
});
