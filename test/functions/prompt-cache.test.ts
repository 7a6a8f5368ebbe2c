/**
 * Prompt caching end to end: varied creative and opportunities misses through the gateway share their
 * prompts' unchanging prefix, which the simulator (caching like OpenAI: ≥ 1,024-token prefixes per
 * account and prompt_cache_key) bills as cached after the first request wrote it; the key's ledger
 * records what the invoice bills.
 */
import { describe, expect, it } from 'vitest';
import { uniqueWord } from '../../dev/unique-word';
import { bindings } from '../support/env';
import { freshCaller } from '../support/gateway';
import { keyBudget } from './batches.support';

interface Totals {
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
}
const invoiceOf = async (sim: string) =>
  (await (await fetch(`${bindings.SIMULATOR_URL}/_sim/invoice?key=${sim}`)).json()) as {
    total_usd: number;
    by_model: Record<string, Totals>;
  };

describe('prompt caching through the gateway', () => {
  it('bills most of varied creative misses’ input as cached, and the ledger follows the invoice', async () => {
    const { post, sim, key, env } = await freshCaller('/v1/creatives');
    const run = uniqueWord();
    const products = ['Trail shoes', 'Rain jackets', 'Camping mugs', 'Desk lamps', 'Yoga mats'];
    for (const [n, product] of products.entries()) {
      const res = await post({
        opportunity: { id: `opp_${n}`, product_category: product, description: `${product} for ${run}` },
        target_audience: `people who like ${run}`,
        brand_voice: 'warm and practical',
        needs_visual: false,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-cache')).toBe('MISS');
    }
    const invoice = await invoiceOf(sim);
    const text = invoice.by_model['gpt-6-luna'] as Totals;
    // The first request wrote the prefix; the other four read it.
    expect(text.cache_write_tokens).toBeGreaterThanOrEqual(1024);
    expect(text.cached_input_tokens).toBeGreaterThanOrEqual(4 * 1024);
    expect(text.cached_input_tokens / text.input_tokens).toBeGreaterThan(0.6);
    const { spent_usd } = await keyBudget(env, key);
    expect(Math.abs(spent_usd - invoice.total_usd)).toBeLessThanOrEqual(invoice.total_usd * 0.01);
  });

  it('caches the opportunities prompt across different intents', async () => {
    const { post, sim } = await freshCaller('/v1/opportunities');
    const run = uniqueWord();
    for (const intent of ['boots for a wet', 'tents for a windy', 'gloves for a cold'])
      expect((await post({ intent: `${intent} ${run}` })).status).toBe(200);
    const text = (await invoiceOf(sim)).by_model['gpt-6-luna'] as Totals;
    expect(text.cache_write_tokens).toBeGreaterThanOrEqual(1024);
    expect(text.cached_input_tokens).toBeGreaterThanOrEqual(2 * 1024);
  });
});
