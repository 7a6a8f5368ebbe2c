/**
 * The creatives batch below its endpoint: every distinct request looked up with admission in one
 * round trip; hits served, entries another request is generating waited for, and the misses
 * generated together, one pipeline run (lib/generation.ts) per prompt variant writing all their copy,
 * each copy then approved, given its image and cached on its own, exactly as one creative would be.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import type { CacheLookup, CacheResult, Produced } from '../cache';
import { admitAndLookUpMany, DEGRADED_CACHE_TTL_SECONDS, wantsFresh } from '../cache-first';
import type { Nanos } from '../pricing';
import { servicesOf } from '../request-services';
import { type CreativeValue, produceCreative, TEXT_AND_IMAGE } from './pipeline';
import { type Entry, generateTogether, type Pending } from './together';

/** What one entry came to, and what it cost. */
export interface Outcome {
  value?: CreativeValue;
  status?: string;
  error?: unknown;
  costNanos: Nanos;
}

/**
 * Looks every entry up (one round trip, with admission), then: hits are done; entries another request
 * is generating wait for it (taking over alone if it fails); the rest are generated together.
 */
export async function settleEntries(c: Context<AppEnv>, entries: Entry[]): Promise<Map<string, Outcome>> {
  const cache = servicesOf(c).cache(TEXT_AND_IMAGE);
  const bypass = wantsFresh(c);
  const lookups = await admitAndLookUpMany<CreativeValue>(
    c,
    cache,
    entries.map((e) => e.key),
    bypass,
  );
  const outcomes = new Map<string, Outcome>();
  const generating: { entry: Entry; first: CacheLookup<CreativeValue> | undefined }[] = [];
  const waits: Promise<void>[] = [];
  const settle = (key: string, work: Promise<CacheResult<CreativeValue>>, billed: () => Nanos) =>
    work.then(
      (r) => void outcomes.set(key, { value: r.value, status: r.status, costNanos: billed() }),
      (error: unknown) => void outcomes.set(key, { error, costNanos: billed() }),
    );
  entries.forEach((entry, index) => {
    const found = lookups?.[index];
    if (found?.kind === 'hit') {
      outcomes.set(entry.key, { value: found.value, status: 'HIT', costNanos: 0 });
    } else if (found?.kind === 'wait') {
      const produce = async () =>
        cacheable(
          (await produceCreative(servicesOf(c), entry.request, entry.variant, 'creatives_batch')).value,
        );
      waits.push(settle(entry.key, cache.getOrProduce(entry.key, produce, { first: found }), () => 0));
    } else {
      generating.push({ entry, first: found });
    }
  });

  // One combined generation; each entry then finishes its own lease with its own value.
  const pending = generateTogether(
    servicesOf(c),
    generating.map((g) => g.entry),
  );
  const finishing = generating.map(({ entry, first }, i) => {
    const item = pending[i] as Pending;
    const produce = async () => cacheable(await item.value);
    const options = { bypass, ...(first ? { first } : {}) };
    return settle(entry.key, cache.getOrProduce(entry.key, produce, options), () => item.billed);
  });
  await Promise.all([...waits, ...finishing]);
  return outcomes;
}

function cacheable(value: CreativeValue): Produced<CreativeValue> {
  return { value, cacheable: true, ...(value.degraded ? { ttlSeconds: DEGRADED_CACHE_TTL_SECONDS } : {}) };
}
