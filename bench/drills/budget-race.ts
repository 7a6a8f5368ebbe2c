/**
 * Budget race: concurrent text (`POST /v1/opportunities`, distinct intents) and image
 * (`POST /v1/creatives`, `needs_visual: true`, distinct products) requests, all at once, against a key
 * whose daily budget fits only some of them. The key's spend must stay within its budget, nothing may
 * stay reserved, and every refusal must be `429 budget_exceeded`.
 */

import { uniqueWord } from '../../dev/unique-word.ts';
import { type Drill, type DrillStack, gw, sleep, waitForSettled } from './harness.ts';
import { errorCode, type Reply } from './http.ts';

/** What one race found. */
export interface RaceOutcome {
  requests: number;
  budgetUsd: number;
  admitted: number;
  refused: number;
  /** Anything but 200 or 429 budget_exceeded, by "status code". */
  other: Record<string, number>;
  spentUsd: number;
  reservedUsd: number;
  overspendUsd: number;
  calibration: { text_usd: number; creative_usd: number };
}

/**
 * Runs one race of `requests` (half text, half creatives). The budget is `fitShare` of what they would
 * all cost, from one calibration request of each kind on another key.
 */
export async function runBudgetRace(
  stack: DrillStack,
  options: { requests: number; fitShare?: number },
): Promise<RaceOutcome> {
  const run = uniqueWord(8);
  const calibration = await calibrate(stack, run);
  const perPair = calibration.text_usd + calibration.creative_usd;
  const budgetUsd = round((perPair * options.requests * (options.fitShare ?? 0.25)) / 2);
  const key = await stack.createKey({ rpm: 1_000_000, daily_budget_usd: budgetUsd });
  const replies = await Promise.all(
    Array.from({ length: options.requests }, (_, i) =>
      (i % 2 === 0 ? textRequest : creativeRequest)(stack, key, run, i),
    ),
  );
  await sleep(500);
  const budget = (await waitForSettled(stack, key, 15_000)).key;
  if (!budget) throw new Error('GET /v1/budget did not return the key');
  const other: Record<string, number> = {};
  for (const r of replies) {
    if (r.status === 200 || (r.status === 429 && errorCode(r) === 'budget_exceeded')) continue;
    const label = `${r.status} ${errorCode(r) ?? r.error ?? ''}`.trim();
    other[label] = (other[label] ?? 0) + 1;
  }
  return {
    requests: options.requests,
    budgetUsd,
    admitted: replies.filter((r) => r.status === 200).length,
    refused: replies.filter((r) => r.status === 429 && errorCode(r) === 'budget_exceeded').length,
    other,
    spentUsd: budget.spent_usd,
    reservedUsd: budget.reserved_usd,
    overspendUsd: round(Math.max(0, budget.spent_usd - budgetUsd)),
    calibration,
  };
}

/** What one text and one creative request cost, from a key with no budget of its own. */
async function calibrate(stack: DrillStack, run: string) {
  const key = await stack.createKey({ rpm: 1_000_000 });
  const spent = async () => (await waitForSettled(stack, key)).key?.spent_usd ?? 0;
  const text = await textRequest(stack, key, `${run}-cal`, 0);
  const textUsd = await spent();
  const creative = await creativeRequest(stack, key, `${run}-cal`, 1);
  const creativeUsd = (await spent()) - textUsd;
  if (text.status !== 200 || creative.status !== 200 || textUsd <= 0 || creativeUsd <= 0) {
    throw new Error(`calibration failed: text ${text.status}, creative ${creative.status} ${creative.text}`);
  }
  return { text_usd: textUsd, creative_usd: creativeUsd };
}

const PRODUCTS = ['trail socks', 'camp mugs', 'rain covers', 'map cases', 'head torches', 'dry bags'];

function textRequest(stack: DrillStack, key: string, run: string, i: number): Promise<Reply> {
  return gw(stack, '/v1/opportunities', {
    key,
    body: {
      intent: `race ${run} request ${i}: gifts for a friend who loves ${PRODUCTS[i % PRODUCTS.length]}`,
    },
    timeoutMs: 60_000,
  });
}

function creativeRequest(stack: DrillStack, key: string, run: string, i: number): Promise<Reply> {
  const product = `${PRODUCTS[i % PRODUCTS.length]} ${run} ${i}`;
  return gw(stack, '/v1/creatives', {
    key,
    body: {
      opportunity: {
        id: `opp_${run}_${i}`,
        product_category: product,
        description: `Durable ${product} for hikers`,
      },
      target_audience: `weekend hikers ${i}`,
      brand_voice: 'warm, practical',
      needs_visual: true,
    },
    timeoutMs: 60_000,
  });
}

const round = (usd: number) => Math.round(usd * 1e9) / 1e9;

export const budgetRaceDrill: Drill = async ({ stack, scale, log }) => {
  const requests = Math.max(20, Math.round(200 * scale));
  log(`budget-race: ${requests} concurrent requests (half text, half creatives with images)`);
  const race = await runBudgetRace(stack, { requests });
  const otherCount = Object.values(race.other).reduce((a, b) => a + b, 0);
  const lost = {
    overspend_usd: race.overspendUsd,
    leaked_reservations_usd: race.reservedUsd,
    refusals_not_budget_exceeded: otherCount,
  };
  const findings: string[] = [];
  if (otherCount)
    findings.push(`answers other than 200 or 429 budget_exceeded: ${JSON.stringify(race.other)}`);
  if (race.admitted === 0 || race.refused === 0) {
    findings.push(
      `the race did not split (admitted ${race.admitted}, refused ${race.refused}): resize the budget`,
    );
  }
  return {
    name: 'budget-race',
    title: `Budget race: ${requests} concurrent requests`,
    ok: Object.values(lost).every((n) => n === 0) && race.admitted > 0 && race.refused > 0,
    verdict:
      `${race.admitted} admitted, ${race.refused} refused with 429 budget_exceeded; spent ${race.spentUsd} ` +
      `of ${race.budgetUsd} USD, ${race.reservedUsd} USD left reserved`,
    lost,
    figures: { ...race },
    findings,
  };
};
