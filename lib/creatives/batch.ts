/**
 * The creatives batch below its endpoint, once every distinct request was looked up (with admission,
 * in one round trip): hits served, entries another request is generating waited for, and the misses
 * generated together, one pipeline run (lib/generation.ts) per prompt variant writing all their copy,
 * each copy then approved, given its image and cached on its own, exactly as one creative would be.
 */
import type { Cache, CacheLookup, CacheResult, Produced } from '../cache';
import { DEGRADED_CACHE_TTL_SECONDS } from '../generation';
import type { Nanos } from '../pricing';
import type { Services } from '../services';
import { type CreativeValue, produceCreative } from './pipeline';
import { type Entry, generateTogether, type Pending } from './together';

/** What one entry came to, and what it cost. */
export interface Outcome {
  value?: CreativeValue;
  status?: string;
  error?: unknown;
  costNanos: Nanos;
}

/** What the lookup found for the entries, in their order (none when the client bypassed the cache). */
export interface Looked {
  cache: Cache;
  lookups: CacheLookup<CreativeValue>[] | undefined;
  bypass: boolean;
}

/**
 * Settles every looked-up entry: hits are done; entries another request is generating wait for it
 * (taking over alone if it fails); the rest are generated together.
 */
export async function settleEntries(
  services: Services,
  entries: Entry[],
  { cache, lookups, bypass }: Looked,
): Promise<Map<string, Outcome>> {
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
        cacheable((await produceCreative(services, entry.request, entry.variant, 'creatives_batch')).value);
      waits.push(settle(entry.key, cache.getOrProduce(entry.key, produce, { first: found }), () => 0));
    } else {
      generating.push({ entry, first: found });
    }
  });

  // One combined generation; each entry then finishes its own lease with its own value.
  const pending = generateTogether(
    services,
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
