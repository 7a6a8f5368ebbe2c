import OpenAI from 'openai';
import { createBreaker } from '../../lib/breaker';
import type { BreakerOptions } from '../../lib/breaker-options';
import { createDeps } from '../../lib/deps';
import { parseEnv } from '../../lib/env';
import { createLogger } from '../../lib/log';
import type { RetryPolicy } from '../../lib/providers/retry';
import type { RouterDeps } from '../../lib/providers/router-deps';
import type { ProviderTarget } from '../../lib/providers/targets';
import { bindings } from './env';

/** A fresh simulator API key: the simulator scopes faults and stats to it, so tests don't collide. */
export const simKey = () => `sim-${crypto.randomUUID()}`;

/** Replaces the simulator's config for requests made with `key`. */
export async function simConfigure(key: string, config: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${bindings.SIMULATOR_URL}/_sim/config?key=${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config),
  });
  if (!res.ok) throw new Error(`simulator config rejected: ${await res.text()}`);
}

/** Requests the simulator received with `key`, per endpoint. */
export async function simRequests(key: string): Promise<Record<string, number>> {
  const res = await fetch(`${bindings.SIMULATOR_URL}/_sim/stats?key=${key}`);
  return ((await res.json()) as { requests: Record<string, number> }).requests;
}

/** A provider name no other test uses, so breaker state in the shared Redis stays with one test. */
export const providerName = (label = 'p') => `${label}-${crypto.randomUUID().slice(0, 8)}`;

/** What a test may set on a simulator provider: anything but its name and client, plus a timeout. */
export type SimTargetOptions = Partial<Omit<ProviderTarget, 'name' | 'client'>> & { timeoutMs?: number };

/** A provider on the simulator; `api: 'chat'` with `structuredOutputs: false` plays a prompt-only backup. */
export function simTarget(name: string, key: string, options: SimTargetOptions = {}): ProviderTarget {
  const { timeoutMs = 5_000, ...rest } = options;
  return {
    name,
    client: new OpenAI({
      apiKey: key,
      baseURL: `${bindings.SIMULATOR_URL}/v1`,
      maxRetries: 0,
      timeout: timeoutMs,
    }),
    api: 'responses',
    structuredOutputs: true,
    models: {
      text: 'gpt-6-luna',
      vision: 'gpt-6-luna',
      image: 'gpt-image-2.5-flare',
      embeddings: 'text-embedding-3-small',
      moderation: 'omni-moderation-latest',
    },
    ...rest,
  };
}

export const FAST_POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 1000, maxDelayMs: 20_000 };

/**
 * Router dependencies over real Redis (through the bridge) with a controllable clock, sleeps that are
 * recorded instead of waited, no jitter, and deferred work collected so a test can await it.
 */
export function routerHarness(providers: ProviderTarget[], breakerOptions: Partial<BreakerOptions> = {}) {
  const redis = createDeps(parseEnv(bindings)).redis;
  const clock = { now: Date.now() };
  const sleeps: number[] = [];
  const deferred: Promise<unknown>[] = [];
  const deps: RouterDeps = {
    providers,
    breaker: createBreaker(
      { redis, now: () => clock.now },
      { failureThreshold: 3, openSeconds: 30, ...breakerOptions },
    ),
    // Sleeping passes the harness's time, so a wait the provider named has passed when it returns.
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.now += ms;
    },
    random: () => 0,
    defer: (work) => void deferred.push(work),
    log: createLogger({ level: 'error', sink: () => {} }),
  };
  return { deps, clock, sleeps, settle: () => Promise.all(deferred) };
}

/** A routerHarness over one simulator provider sending `key`, under a fresh `name`. */
export function simHarness(key = simKey(), options: SimTargetOptions = {}) {
  const name = providerName();
  return { name, ...routerHarness([simTarget(name, key, options)]) };
}

/**
 * An image URL on the simulator's test image host, under a name no other test uses; `query` shapes how
 * it is served (format, type, size, flag, redirects: docs/simulator.md).
 */
export const simImage = (query = '') =>
  `${bindings.SIMULATOR_URL}/_sim/images/img-${crypto.randomUUID()}${query ? `?${query}` : ''}`;

/** How many requests the hosted image `url` got, redirects included. */
export async function simImageFetches(url: string): Promise<number> {
  const res = await fetch(`${url.split('?')[0]}/fetches`);
  return ((await res.json()) as { fetches: number }).fetches;
}

/** An image a request carried, as `GET /_sim/inputs` lists it (dev/openai-sim/image-inputs.ts). */
export interface SimImageInput {
  endpoint: string;
  url?: string;
  media_type?: string;
  bytes?: number;
  sha256?: string;
}

/** The images the requests made with `key` carried, in order. */
export async function simImageInputs(key: string): Promise<SimImageInput[]> {
  const res = await fetch(`${bindings.SIMULATOR_URL}/_sim/inputs?key=${key}`);
  return ((await res.json()) as { images: SimImageInput[] }).images;
}
