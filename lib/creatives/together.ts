import { InternalError, InvalidModelOutputError } from '../errors';
import { costLedger, generate, isRejection, markDegraded } from '../generation';
import type { Nanos } from '../pricing';
import type { Services } from '../services';
import { type Variant, withVariant } from '../variants';
import { approveCreative, type CreativeValue, imageWorstCase, moderateCreativeInput } from './pipeline';
import { creativeBatchTask } from './prompt';
import type { CreativeRequest } from './schema';

/** One distinct request of the batch (identical items share one). */
export interface Entry {
  request: CreativeRequest;
  variant: Variant | undefined;
  key: string;
  keyVersion: string;
}

/** A creative being generated as part of the combined call, and what it has cost so far. */
export interface Pending {
  value: Promise<CreativeValue>;
  billed: Nanos;
}

/**
 * Generates `entries` together: each client text is moderated, then per prompt variant ONE structured
 * call writes all their copy under one budget reservation (tiered by the `creatives_batch` model
 * policy); each copy is then approved and given its image on its own. The combined call's cost is
 * split evenly between its entries; an image is billed to its own entry.
 */
export function generateTogether(services: Services, entries: Entry[]): Pending[] {
  const settlers: { resolve: (v: CreativeValue) => void; reject: (e: unknown) => void }[] = [];
  const pending = entries.map((): Pending => {
    const value = new Promise<CreativeValue>((resolve, reject) => settlers.push({ resolve, reject }));
    value.catch(() => undefined); // consumed by getOrProduce; this only marks the rejection handled
    return { value, billed: 0 };
  });
  const run = async () => {
    const admitted = await Promise.all(
      entries.map((entry, i) =>
        moderateCreativeInput(services, entry.request).then(
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
          services,
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
async function generateGroup(services: Services, items: GroupItem[]): Promise<void> {
  const variant = items[0]?.entry.variant;
  const task = withVariant(creativeBatchTask(items.map((it) => it.entry.request)), variant);
  const visuals = items.filter((it) => it.entry.request.needs_visual).length;
  const ledger = costLedger(services.prices);
  const share = (nanos: Nanos) => {
    const each = Math.floor(nanos / items.length);
    items.forEach((it, i) => {
      it.pending.billed += each + (i === 0 ? nanos - each * items.length : 0);
    });
  };
  const record = (it: GroupItem, rejected: boolean) =>
    services.recordVariant(variant, { costNanos: it.pending.billed, rejected });
  try {
    await generate(services, {
      policyTask: 'creatives_batch',
      task,
      images: { count: visuals, nanos: await imageWorstCase(services.env, task) },
      ledger,
      approved: (count: number) => count,
      finish: async (copy, { billing, degraded }) => {
        share(ledger.total);
        const passed = await Promise.all(
          items.map(async (it, i) => {
            try {
              const written = copy.creatives[i];
              if (!written)
                throw new InternalError({ message: 'The combined answer has no creative for this item.' });
              const bill = (n: Nanos) => {
                it.pending.billed += n;
                ledger.add(n);
              };
              const value = await approveCreative(
                services,
                written,
                it.entry.request.needs_visual,
                bill,
                billing,
              );
              record(it, false);
              it.settle?.resolve(markDegraded(value, degraded));
              return true;
            } catch (error) {
              if (isRejection(error)) record(it, true);
              it.settle?.reject(error);
              return false;
            }
          }),
        );
        // The approved creatives, each returned to its item.
        return passed.filter(Boolean).length;
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
