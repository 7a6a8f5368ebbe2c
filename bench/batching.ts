/**
 * Batching: the token count of bench/batching-tokens.ts priced with the gateway's own price table, and,
 * through the running gateway, one `POST /v1/creatives/batch` of ten against ten `POST /v1/creatives`
 * (copy only: an image costs the same either way and would drown the difference), each on a fresh key
 * so neither sees the other's cache.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { MODEL_PRICES } from '../lib/pricing/prices.ts';
import { postJson, settledSpend, simRequests, total } from './lib/client.ts';
import { REPO_ROOT } from './lib/processes.ts';
import type { Stack } from './lib/stack.ts';

const MODEL = 'gpt-6-luna';
const ITEMS = [
  ['Trail shoes', 'trail runners'],
  ['Coffee grinders', 'home baristas'],
  ['Rain jackets', 'city cyclists'],
  ['Picnic sets', 'young families'],
  ['Standing desks', 'remote workers'],
  ['Tents', 'festival goers'],
  ['Smart watches', 'marathon trainees'],
  ['Bird feeders', 'retired gardeners'],
  ['Puzzle books', 'commuters'],
  ['Blenders', 'smoothie fans'],
].map(([category, audience], i) => ({
  opportunity: { id: `opp_b${i}`, product_category: category, description: `${category} for ${audience}` },
  target_audience: audience,
  brand_voice: 'warm, practical, confident',
  needs_visual: false,
}));

interface TokenSide {
  calls: number;
  input_tokens: number;
  output_tokens: number;
}

export async function benchBatching(stack: Stack) {
  await promisify(execFile)(process.execPath, ['bench/batching-tokens.ts'], { cwd: REPO_ROOT });
  const tokens = JSON.parse(await readFile(`${REPO_ROOT}bench/results/batching-tokens.json`, 'utf8')) as {
    single: TokenSide;
    batched: TokenSide;
  };
  const price = MODEL_PRICES[MODEL];
  if (!price) throw new Error(`no price for ${MODEL}`);
  const cost = (side: TokenSide) =>
    (side.input_tokens * price.inputPerMillion + side.output_tokens * price.outputPerMillion) / 1e6;

  const singleKey = await stack.createKey();
  const single = await measured(stack, singleKey, async () => {
    for (const item of ITEMS) await expectOk(postJson(`${stack.gatewayUrl}/v1/creatives`, singleKey, item));
  });
  const batchKey = await stack.createKey();
  const batched = await measured(stack, batchKey, () =>
    expectOk(postJson(`${stack.gatewayUrl}/v1/creatives/batch`, batchKey, { items: ITEMS })),
  );
  return {
    model: MODEL,
    pricePerMillion: { input: price.inputPerMillion, output: price.outputPerMillion },
    tokens: {
      single: { ...tokens.single, costUsd: cost(tokens.single) },
      batched: { ...tokens.batched, costUsd: cost(tokens.batched) },
    },
    gateway: { items: ITEMS.length, single, batched },
  };
}

export type BatchingResult = Awaited<ReturnType<typeof benchBatching>>;

async function measured(stack: Stack, key: string, send: () => Promise<unknown>) {
  const before = await simRequests(stack, stack.simKeys.primary);
  await send();
  const spend = await settledSpend(stack, key);
  const after = await simRequests(stack, stack.simKeys.primary);
  const delta = Object.fromEntries(
    Object.keys(after)
      .map((endpoint) => [endpoint, (after[endpoint] ?? 0) - (before[endpoint] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
  return {
    upstreamCalls: delta,
    generationCalls: total(delta, /responses|chat/),
    settledUsd: spend.spent_usd,
  };
}

async function expectOk(request: ReturnType<typeof postJson>): Promise<void> {
  const res = await request;
  if (res.status !== 200) throw new Error(`creatives answered ${res.status}: ${JSON.stringify(res.json)}`);
}
