/**
 * Redis round trips per request, counted where they land: the bridge's HTTP request counter (one
 * Upstash REST call = one round trip) and the simulator's per-key request counts, on a quiet stack.
 *
 * For a miss the simulator holds each upstream call for HOLD_MS, so the bridge count sampled while a
 * call is held is exactly the number of round trips made before it. The count read the moment the
 * response arrives is an upper bound on the critical path (work in `waitUntil` starts as the response
 * leaves and may already have landed); the count after a flush interval is the total: for a request
 * alone, its own metrics flush included (under load one flush serves many: the cpu phase counts that).
 */
import { bridgeStats, jsonHeaders, simRequests, total } from './lib/client.ts';
import { sleep } from './lib/processes.ts';
import type { Stack } from './lib/stack.ts';

const HOLD_MS = 400;
// Longer than the default METRICS_FLUSH_SECONDS (5): the metrics a request leaves in the isolate's
// buffer are written before the next count starts, never inside it.
const SETTLE_MS = 6_000;
const HIT_REPEATS = 3;

export interface MissTimeline {
  /** Upstream calls in order, with the bridge round trips made before each. */
  upstream: { endpoint: string; roundTripsBefore: number }[];
  /** Round trips counted when the response arrived (an upper bound on the critical path). */
  atResponse: number;
  total: number;
}

export interface RoundTripResult {
  path: string;
  miss: MissTimeline;
  /** Cache hits: the least counted at response time over the repeats (upper bound), and the total. */
  hit: { atResponse: number; total: number; upstreamCalls: number; repeats: number };
}

const REQUESTS: [string, unknown][] = [
  ['/v1/opportunities', { intent: 'trail running shoes for muddy winter routes' }],
  [
    '/v1/creatives',
    {
      opportunity: { id: 'opp_rt', product_category: 'Trail shoes', description: 'Grippy shoes for mud' },
      target_audience: 'winter runners',
      brand_voice: 'bold and friendly',
      needs_visual: false,
    },
  ],
];

export async function benchRoundTrips(stack: Stack): Promise<RoundTripResult[]> {
  const key = await stack.createKey();
  // Warm the isolate: the key's metadata and limits, the Lua scripts in Redis.
  await send(stack, key, '/v1/opportunities', { intent: 'warm up: rain jackets for city cycling' });
  await sleep(SETTLE_MS);
  const results: RoundTripResult[] = [];
  for (const [path, body] of REQUESTS) {
    await stack.simConfigure(stack.simKeys.primary, { latency_ms: HOLD_MS });
    const miss = await missTimeline(stack, key, path, body);
    await stack.simConfigure(stack.simKeys.primary, {});
    const hits: { atResponse: number; total: number; upstream: number }[] = [];
    for (let i = 0; i < HIT_REPEATS; i++) hits.push(await counted(stack, key, path, body));
    results.push({
      path,
      miss,
      hit: {
        atResponse: Math.min(...hits.map((h) => h.atResponse)),
        total: Math.max(...hits.map((h) => h.total)),
        upstreamCalls: Math.max(...hits.map((h) => h.upstream)),
        repeats: HIT_REPEATS,
      },
    });
  }
  return results;
}

async function missTimeline(stack: Stack, key: string, path: string, body: unknown): Promise<MissTimeline> {
  const bridge0 = (await bridgeStats(stack)).requests;
  let seen = await simRequests(stack, stack.simKeys.primary);
  const upstream: MissTimeline['upstream'] = [];
  let done = false;
  const response = send(stack, key, path, body).finally(() => {
    done = true;
  });
  while (!done) {
    const now = await simRequests(stack, stack.simKeys.primary);
    const trips = (await bridgeStats(stack)).requests - bridge0;
    for (const [endpoint, n] of Object.entries(now)) {
      for (let i = seen[endpoint] ?? 0; i < n; i++) upstream.push({ endpoint, roundTripsBefore: trips });
    }
    seen = now;
    await sleep(HOLD_MS / 20);
  }
  const res = await response;
  if (res.cache !== 'MISS') throw new Error(`${path}: expected a miss, got ${res.status} ${res.cache}`);
  const atResponse = res.bridgeAtResponse - bridge0;
  await sleep(SETTLE_MS);
  return { upstream, atResponse, total: (await bridgeStats(stack)).requests - bridge0 };
}

async function counted(stack: Stack, key: string, path: string, body: unknown) {
  const bridge0 = (await bridgeStats(stack)).requests;
  const sim0 = total(await simRequests(stack, stack.simKeys.primary));
  const res = await send(stack, key, path, body);
  if (res.cache !== 'HIT') throw new Error(`${path}: expected a hit, got ${res.status} ${res.cache}`);
  await sleep(SETTLE_MS);
  return {
    atResponse: res.bridgeAtResponse - bridge0,
    total: (await bridgeStats(stack)).requests - bridge0,
    upstream: total(await simRequests(stack, stack.simKeys.primary)) - sim0,
  };
}

/** Sends one request and reads the bridge counter as soon as the response headers arrive. */
async function send(stack: Stack, key: string, path: string, body: unknown) {
  const res = await fetch(`${stack.gatewayUrl}${path}`, {
    method: 'POST',
    headers: jsonHeaders(key),
    body: JSON.stringify(body),
  });
  const bridgeAtResponse = (await bridgeStats(stack)).requests;
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  return { status: res.status, cache: res.headers.get('x-cache'), bridgeAtResponse };
}
