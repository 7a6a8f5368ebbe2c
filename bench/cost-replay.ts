/**
 * Cost replay: a commerce workload of `POST /v1/creatives` (copy only, `needs_visual: false`) drawn
 * Zipf-like from category × audience × voice combinations with a seeded RNG, sent in concurrent bursts.
 * Upstream generations come from the simulator, spend from `GET /v1/budget` (the replay's own key).
 * Spend without the cache is measured on a sample sent with `cache-control: no-cache` and scaled to the
 * replay's size.
 */
import { jsonHeaders, pool, settledSpend, simRequests, total } from './lib/client.ts';
import { round } from './lib/load.ts';
import { sleep } from './lib/processes.ts';
import type { Stack } from './lib/stack.ts';

export interface ReplayOptions {
  requests: number;
  /**
   * No new burst starts once the replay would pass this many seconds: a slow machine replays a
   * shorter prefix of the same deterministic workload (reported), instead of overrunning the run.
   */
  timeCapSeconds: number;
  /** Requests sent again with `cache-control: no-cache` to price the replay without a cache. */
  noCacheSample: number;
  /** The same cap for the uncached sample. */
  noCacheTimeCapSeconds: number;
  /** Requests in flight at once within a burst. */
  concurrency: number;
  burstSize: number;
  seed: number;
  /** Zipf exponent: the k-th most popular combination is drawn with weight 1 / k^s. */
  zipfExponent: number;
}

const CATEGORIES = [
  'Hiking boots',
  'Espresso machines',
  'Running shoes',
  'Winter coats',
  'Board games',
  'Yoga mats',
  'Desk lamps',
  'Camping stoves',
  'Headphones',
  'Plant pots',
  'Cookware sets',
  'Backpacks',
];
const AUDIENCES = [
  'weekend hikers',
  'busy parents',
  'students on a budget',
  'frequent travellers',
  'new homeowners',
  'fitness beginners',
];
const VOICES = ['warm and practical', 'bold and playful', 'calm and premium', 'friendly and expert'];

/** mulberry32: a small seeded PRNG, so every run replays the same workload. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The replay's requests, in order, and how many distinct cache keys they hold. */
export function workload(options: ReplayOptions) {
  const random = rng(options.seed);
  const combos = CATEGORIES.flatMap((c) => AUDIENCES.flatMap((a) => VOICES.map((v) => [c, a, v] as const)));
  // A seeded shuffle decides which combinations are popular.
  for (let i = combos.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [combos[i], combos[j]] = [combos[j] as (typeof combos)[number], combos[i] as (typeof combos)[number]];
  }
  const weights = combos.map((_, k) => 1 / (k + 1) ** options.zipfExponent);
  const cumulative = weights.map(
    (
      (sum) => (w: number) =>
        (sum += w)
    )(0),
  );
  const totalWeight = cumulative[cumulative.length - 1] as number;
  const drawn = Array.from({ length: options.requests }, (_, i) => {
    const x = random() * totalWeight;
    const k = cumulative.findIndex((c) => c >= x);
    const [category, audience, voice] = combos[k] as (typeof combos)[number];
    return {
      combo: k,
      body: {
        opportunity: {
          id: `opp_${i}`,
          product_category: category,
          description: `${category} for ${audience}`,
        },
        target_audience: audience,
        brand_voice: voice,
        needs_visual: false,
      },
    };
  });
  return { combinations: combos.length, requests: drawn, distinct: new Set(drawn.map((d) => d.combo)).size };
}

export async function benchCostReplay(stack: Stack, options: ReplayOptions, log: (line: string) => void) {
  const planned = workload(options);
  const key = await stack.createKey();
  const statuses: Record<string, number> = {};
  const sim0 = await simRequests(stack, stack.simKeys.primary);
  const started = performance.now();
  const deadline = started + options.timeCapSeconds * 1000;
  let sent = 0;
  // Bursts of `burstSize`, `concurrency` in flight; past the deadline nothing new is sent, so what
  // was sent is always a prefix of the planned sequence.
  for (let i = 0; i < planned.requests.length && performance.now() < deadline; i += options.burstSize) {
    const burst = planned.requests.slice(i, i + options.burstSize);
    await pool(burst, options.concurrency, async ({ body }) => {
      if (performance.now() >= deadline) return;
      sent++;
      const outcome = await sendCreative(stack, key, body);
      statuses[outcome] = (statuses[outcome] ?? 0) + 1;
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const requests = planned.requests.slice(0, sent);
  const distinct = new Set(requests.map((r) => r.combo)).size;
  await sleep(1_000);
  const sim1 = await simRequests(stack, stack.simKeys.primary);
  // Each MISS (or BYPASS) is one generation run by the gateway; the simulator also sees the repair calls
  // a generation makes when the first output fails validation, so those are counted apart.
  const upstreamCalls = total(sim1, /responses|chat/) - total(sim0, /responses|chat/);
  const generations = (statuses.MISS ?? 0) + (statuses.BYPASS ?? 0);
  const withCache = await settledSpend(stack, key);
  log(
    `replay: ${requests.length} requests in ${seconds.toFixed(1)} s, ${generations} generations, $${withCache.spent_usd}`,
  );

  const sampleKey = await stack.createKey();
  const sampleDeadline = performance.now() + options.noCacheTimeCapSeconds * 1000;
  let sampled = 0;
  const sampleStatuses: Record<string, number> = {};
  await pool(requests.slice(0, options.noCacheSample), options.concurrency, async ({ body }) => {
    if (performance.now() >= sampleDeadline) return;
    sampled++;
    const outcome = await sendCreative(stack, sampleKey, body, { 'cache-control': 'no-cache' });
    sampleStatuses[outcome] = (sampleStatuses[outcome] ?? 0) + 1;
  });
  const noCache = await settledSpend(stack, sampleKey);
  const perRequestNoCache = noCache.spent_usd / sampled;
  const withoutCacheUsd = perRequestNoCache * requests.length;
  const hits = (statuses.HIT ?? 0) + (statuses.COALESCED ?? 0);
  return {
    options,
    combinations: planned.combinations,
    planned: planned.requests.length,
    requests: requests.length,
    distinctKeys: distinct,
    theoreticalMaxHitRate: round(1 - distinct / requests.length, 4),
    hitRate: round(hits / requests.length, 4),
    statuses,
    generations,
    upstreamCalls,
    repairCalls: upstreamCalls - generations,
    duplicateGenerations: generations - distinct,
    seconds: round(seconds, 1),
    rps: round(requests.length / seconds, 1),
    spendWithCacheUsd: withCache.spent_usd,
    costPerGenerationUsd: generations ? withCache.spent_usd / generations : 0,
    noCacheSample: { requests: sampled, statuses: sampleStatuses, spentUsd: noCache.spent_usd },
    spendWithoutCacheUsd: withoutCacheUsd,
    saving: withoutCacheUsd ? round(1 - withCache.spent_usd / withoutCacheUsd, 4) : 0,
  };
}

export type CostReplayResult = Awaited<ReturnType<typeof benchCostReplay>>;

/** One creative request; returns its x-cache status, or `<status> <error code>` when it failed. */
async function sendCreative(stack: Stack, key: string, body: unknown, extra: Record<string, string> = {}) {
  const res = await fetch(`${stack.gatewayUrl}/v1/creatives`, {
    method: 'POST',
    headers: jsonHeaders(key, extra),
    body: JSON.stringify(body),
  });
  if (res.status === 200) {
    await res.arrayBuffer();
    return res.headers.get('x-cache') ?? 'none';
  }
  const code = ((await res.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code;
  return `${res.status} ${code ?? ''}`.trim();
}
