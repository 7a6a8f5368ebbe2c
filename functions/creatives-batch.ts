import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../lib/app';
import type { CacheLookup, CacheResult, Produced } from '../lib/cache';
import { configOf } from '../lib/config';
import {
  approveCreative,
  type CreativeValue,
  creativeFields,
  creativeKeyParts,
  imageWorstCase,
  moderateCreativeInput,
  produceCreative,
  TEXT_AND_IMAGE,
} from '../lib/creative-pipeline';
import { type Creative, CreativeRequest, creativeBatchTask } from '../lib/domain/creatives';
import {
  GatewayError,
  InternalError,
  InvalidModelOutputError,
  InvalidRequestError,
  type ItemError,
  itemErrorOf,
} from '../lib/errors';
import { costLedger, generate, isRejection, markDegraded } from '../lib/generation';
import { admitsInHandler } from '../lib/guards';
import { type Nanos, nanosToUsd } from '../lib/pricing';
import {
  admitAndLookUpMany,
  cacheFor,
  DEGRADED_CACHE_TTL_SECONDS,
  presentedTenantKey,
  recordVariantFor,
  servicesOf,
  variantFor,
  wantsFresh,
} from '../lib/request-context';
import { valid } from '../lib/validate';
import { type Variant, withVariant } from '../lib/variants';

/** Hard ceiling of the body schema; CREATIVES_BATCH_MAX_ITEMS (≤ this) is the configured one. */
const ITEMS_CEILING = 50;

export const BatchRequest = z.strictObject({
  items: z.array(z.unknown()).min(1, 'must hold at least one creative request').max(ITEMS_CEILING),
});

type ItemResult =
  | { ok: true; creative: Creative; cost_usd: number }
  | { ok: false; error: ItemError; cost_usd: number };

/** One distinct request of the batch (identical items share one). */
interface Entry {
  request: CreativeRequest;
  variant: Variant | undefined;
  key: string;
  keyVersion: string;
}

/** What one entry came to, and what it cost. */
interface Outcome {
  value?: CreativeValue;
  status?: string;
  error?: unknown;
  costNanos: Nanos;
}

/**
 * `POST /v1/creatives/batch`: up to CREATIVES_BATCH_MAX_ITEMS creative requests in, one result per
 * item out, in input order. Admission and every item's cache lookup share one Redis round trip; the
 * misses are generated together in ONE structured call (per prompt variant), then each is moderated,
 * given its image and cached on its own, exactly as `POST /v1/creatives` would (the two share the
 * cache). One bad item never fails the others; each result carries what it cost.
 */
export const creativesBatch = new Hono<AppEnv>().post(
  '/v1/creatives/batch',
  admitsInHandler,
  valid('json', BatchRequest),
  async (c) => {
    const { items } = c.req.valid('json');
    const env = c.get('env');
    if (items.length > env.CREATIVES_BATCH_MAX_ITEMS) {
      throw new InvalidRequestError({
        message: `A batch takes at most ${env.CREATIVES_BATCH_MAX_ITEMS} items; this one has ${items.length}.`,
        param: 'items',
      });
    }
    const parsed = items.map((item) => CreativeRequest.safeParse(item));
    const tenantKey = await presentedTenantKey(c);
    const entries = new Map<string, Entry>();
    const keyOfItem = await Promise.all(
      parsed.map(async (p) => {
        if (!p.success) return undefined;
        const variant = variantFor(c, 'creatives', creativeFields(p.data));
        const parts = creativeKeyParts(env, p.data, variant, 'creatives_batch');
        const key = await tenantKey(parts);
        if (!entries.has(key)) entries.set(key, { request: p.data, variant, key, keyVersion: parts.version });
        return key;
      }),
    );

    const outcomes = await settleEntries(c, [...entries.values()]);
    const results = parsed.map((p, i): ItemResult => {
      if (!p.success) {
        const error = new InvalidRequestError({
          message: `items[${i}]: ${p.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')}`,
          param: `items[${i}]`,
        });
        return { ok: false, error: itemError(c, error), cost_usd: 0 };
      }
      const key = keyOfItem[i] as string;
      const entry = entries.get(key) as Entry;
      const outcome = outcomes.get(key) as Outcome;
      // A duplicate item is answered from the first one's result and billed nothing more.
      const first = keyOfItem.indexOf(key) === i;
      const cost_usd = first ? nanosToUsd(outcome.costNanos) : 0;
      if (!outcome.value) return { ok: false, error: itemError(c, outcome.error), cost_usd };
      const creative: Creative = {
        ...outcome.value,
        cache: { status: first ? (outcome.status ?? 'MISS') : 'HIT', key_version: entry.keyVersion },
      };
      return { ok: true, creative, cost_usd };
    });
    const served = results.filter((r) => r.ok).length;
    return c.json({ results }, 200, {
      'x-batch-served': String(served),
      'x-batch-failed': String(results.length - served),
    });
  },
);

/**
 * Looks every entry up (one round trip, with admission), then: hits are done; entries another request
 * is generating wait for it (taking over alone if it fails); the rest are generated together.
 */
async function settleEntries(c: Context<AppEnv>, entries: Entry[]): Promise<Map<string, Outcome>> {
  const cache = cacheFor(c, TEXT_AND_IMAGE);
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
        cacheable((await produceCreative(c, entry.request, entry.variant, 'creatives_batch')).value);
      waits.push(settle(entry.key, cache.getOrProduce(entry.key, produce, { first: found }), () => 0));
    } else {
      generating.push({ entry, first: found });
    }
  });

  // One combined generation; each entry then finishes its own lease with its own value.
  const pending = generateTogether(
    c,
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

/** A creative being generated as part of the combined call, and what it has cost so far. */
interface Pending {
  value: Promise<CreativeValue>;
  billed: Nanos;
}

/**
 * Generates `entries` together: each client text is moderated, then per prompt variant ONE structured
 * call writes all their copy under one budget reservation (tiered by the `creatives_batch` model
 * policy); each copy is then approved and given its image on its own. The combined call's cost is
 * split evenly between its entries; an image is billed to its own entry.
 */
function generateTogether(c: Context<AppEnv>, entries: Entry[]): Pending[] {
  const settlers: { resolve: (v: CreativeValue) => void; reject: (e: unknown) => void }[] = [];
  const pending = entries.map((): Pending => {
    const value = new Promise<CreativeValue>((resolve, reject) => settlers.push({ resolve, reject }));
    value.catch(() => undefined); // consumed by getOrProduce; this only marks the rejection handled
    return { value, billed: 0 };
  });
  const run = async () => {
    const admitted = await Promise.all(
      entries.map((entry, i) =>
        moderateCreativeInput(c, entry.request).then(
          () => true,
          (error: unknown) => {
            settlers[i]?.reject(error);
            return false;
          },
        ),
      ),
    );
    const groups = new Map<string, number[]>();
    entries.forEach((entry, i) => {
      if (!admitted[i]) return;
      const name = entry.variant?.name ?? '';
      groups.set(name, [...(groups.get(name) ?? []), i]);
    });
    await Promise.all(
      [...groups.values()].map((indexes) =>
        generateGroup(
          c,
          indexes.map((i) => ({
            entry: entries[i] as Entry,
            pending: pending[i] as Pending,
            settle: settlers[i],
          })),
        ),
      ),
    );
  };
  run().catch((error: unknown) => {
    for (const s of settlers) s.reject(error);
  });
  return pending;
}

interface GroupItem {
  entry: Entry;
  pending: Pending;
  settle: { resolve: (v: CreativeValue) => void; reject: (e: unknown) => void } | undefined;
}

/**
 * One pipeline run (lib/generation.ts) writes the group's copy; each copy is then approved and given its
 * image on its own. The combined call's cost is split evenly between the items, an image billed to
 * its own; each item's outcome is recorded for the variant.
 */
async function generateGroup(c: Context<AppEnv>, items: GroupItem[]): Promise<void> {
  const variant = items[0]?.entry.variant;
  const task = withVariant(creativeBatchTask(items.map((it) => it.entry.request)), variant);
  const visuals = items.filter((it) => it.entry.request.needs_visual).length;
  const ledger = costLedger(configOf(c.get('env')).prices);
  const share = (nanos: Nanos) => {
    const each = Math.floor(nanos / items.length);
    items.forEach((it, i) => {
      it.pending.billed += each + (i === 0 ? nanos - each * items.length : 0);
    });
  };
  const record = (it: GroupItem, rejected: boolean) =>
    recordVariantFor(c, variant, { costNanos: it.pending.billed, rejected });
  try {
    await generate(servicesOf(c), {
      policyTask: 'creatives_batch',
      task,
      images: { count: visuals, nanos: await imageWorstCase(c, task) },
      ledger,
      finish: async (copy, { billing, degraded }) => {
        share(ledger.total);
        await Promise.all(
          items.map(async (it, i) => {
            try {
              const written = copy.creatives[i];
              if (!written)
                throw new InternalError({ message: 'The combined answer has no creative for this item.' });
              const bill = (n: Nanos) => {
                it.pending.billed += n;
                ledger.add(n);
              };
              const value = await approveCreative(c, written, it.entry.request.needs_visual, bill, billing);
              record(it, false);
              it.settle?.resolve(markDegraded(value, degraded));
            } catch (error) {
              if (isRejection(error)) record(it, true);
              it.settle?.reject(error);
            }
          }),
        );
      },
    });
  } catch (error) {
    // The combined call failed as a whole (budget, providers, an answer invalid after its repair).
    if (error instanceof InvalidModelOutputError && ledger.total > 0) {
      share(ledger.total);
      for (const it of items) record(it, true);
    }
    for (const it of items) it.settle?.reject(error);
  }
}

function cacheable(value: CreativeValue): Produced<CreativeValue> {
  return { value, cacheable: true, ...(value.degraded ? { ttlSeconds: DEGRADED_CACHE_TTL_SECONDS } : {}) };
}

/** A per-item error as the client sees it: the error body without a request id (the response has one). */
function itemError(c: Context<AppEnv>, error: unknown): ItemError {
  if (error instanceof GatewayError) return itemErrorOf(error);
  c.get('log').error('batch item failed unexpectedly', { cause: error });
  return itemErrorOf(new InternalError({ message: 'This item failed unexpectedly.' }));
}
