/**
 * Invoice: a minute of mixed traffic against the simulator's `realistic` profile (real latencies, images
 * of 40–70 s, reasoning tokens, prompt caching), with injected faults, timeouts and clients that cut
 * their streams, against a daily budget small enough to be reached. The simulator bills what OpenAI
 * would bill, from its own price list; the drill then holds the gateway's ledger against that invoice:
 *
 * - the invoice stays within the daily budget, and the ledger never records less than the invoice;
 * - every call the gateway saw to its end was logged (`spend settled`, under the request id it sent
 *   upstream) at the invoice's figure, within 1 % or $0.0001;
 * - what it could not see to its end (timeouts, cut streams past the drain) was charged at its
 *   reservation: that excess is reported on its own and stays ≤ 10 % of the invoice;
 * - nothing stays reserved 30 s after the last response (no lease is left to expire);
 * - creatives with images succeed without a retried timed-out image.
 *
 * It runs its own stack (its own budget, the gateway's logs at `info`), not the other drills' one.
 */
import { startStack } from '../lib/stack.ts';
import { cleanTag, gw, type OwnStackDrill, readBudget, sleep, steady } from './harness.ts';

/** Small enough that the traffic below reaches it: images alone would cost about three times this. */
const DAILY_BUDGET_USD = 0.4;
const RATE_PER_SEC = 3;

/** One line of `GET /_sim/invoice`. */
interface InvoiceLine {
  endpoint: string;
  model: string;
  request_id: string | null;
  abandoned: boolean;
  usd: number;
}
interface Invoice {
  total_usd: number;
  requests: number;
  abandoned: number;
  by_model: Record<string, { usd: number }>;
  lines: InvoiceLine[];
}

/** A `spend settled` log line. */
interface SpendLine {
  request_id: string;
  cost_usd: number;
  reserved_usd: number;
  /** Part of the cost is a worst case: a call the gateway could not see to its end. */
  estimated?: boolean;
}

/** What one request of the mix did, as its client saw it. */
interface Outcome {
  kind: string;
  status: number;
  /** The error's code, for a failure. */
  code?: string;
  requestId: string | null;
  cut?: boolean;
  /** Response headers said a backup or a retry served it (for images: none may be retried). */
  ms: number;
}

export const invoiceDrill: OwnStackDrill = async ({ scale, log }) => {
  const spendLines: SpendLine[] = [];
  const stack = await startStack({
    env: {
      OPENAI_DAILY_BUDGET_USD: String(DAILY_BUDGET_USD),
      OPENAI_RETRY_BASE_MS: '250',
      OPENAI_RETRY_MAX_DELAY_MS: '2000',
      LOG_LEVEL: 'info',
    },
    onGatewayLine: (line) => {
      const start = line.indexOf('{');
      if (start < 0 || !line.includes('spend settled')) return;
      try {
        spendLines.push(JSON.parse(line.slice(start)) as SpendLine);
      } catch {
        // not one of ours
      }
    },
  });
  try {
    return await run(stack, scale, log, spendLines);
  } finally {
    await stack.stop();
  }
};

type RunStack = Awaited<ReturnType<typeof startStack>>;

/**
 * The share of text calls the simulator times out. Each is charged its worst case, so more of them
 * raise the excess the drill bounds (a run at 10 % saw 14 % time out and an 11 % excess).
 */
const TIMEOUT_RATE = 0.08;

/**
 * The fewest timed-out calls of `calls` that still show the faults took effect: three standard deviations
 * below what the rate gives (binomial), so chance alone fails the check less than once in 5,000 runs.
 * A full run's 160 text calls need 2 (a 5 % share to reach, as before, failed one run in eleven); a
 * `--scale=0.1` run's few dozen need none.
 */
function fewestTimeouts(calls: number): number {
  const mean = calls * TIMEOUT_RATE;
  return Math.max(0, Math.floor(mean - 3 * Math.sqrt(mean * (1 - TIMEOUT_RATE))));
}

async function run(stack: RunStack, scale: number, log: (line: string) => void, spendLines: SpendLine[]) {
  const sim = stack.simKeys.primary;
  await simControl(stack, 'POST', `/_sim/reset?key=${sim}`);
  await stack.simConfigure(sim, {
    profile: 'realistic',
    batch: { duration_ms: 20_000 },
    faults: [
      // Some text calls time out at the default 30 s (the simulator runs, and bills, them anyway).
      { kind: 'timeout', rate: TIMEOUT_RATE, endpoint: '/v1/responses' },
      { kind: 'timeout', rate: TIMEOUT_RATE, endpoint: '/v1/chat/completions' },
      // About 10 % injected faults on the text endpoints: 429 without retry headers, 500s, drops.
      { kind: 'status', status: 429, rate: 0.04, endpoint: '/v1/responses' },
      { kind: 'status', status: 500, rate: 0.04, endpoint: '/v1/responses' },
      { kind: 'drop', rate: 0.02, endpoint: '/v1/responses' },
      { kind: 'status', status: 429, rate: 0.04, endpoint: '/v1/chat/completions' },
      { kind: 'status', status: 500, rate: 0.04, endpoint: '/v1/chat/completions' },
      { kind: 'drop', rate: 0.02, endpoint: '/v1/chat/completions' },
    ],
  });
  const key = await stack.createKey({ rpm: 1_000_000 });
  const runId = cleanTag();

  // A bulk job first, so its batch runs while the rest of the traffic does.
  const bulk = await gw(stack, '/v1/batches', {
    key,
    body: {
      task: 'opportunities',
      items: Array.from({ length: 20 }, (_, i) => ({
        intent: `invoice ${runId} bulk shopper ${i} wants boots`,
      })),
    },
  });
  const bulkId = (bulk.body as { id?: string } | undefined)?.id;
  log(`invoice: bulk job ${bulk.status} ${bulkId ?? bulk.text.slice(0, 120)}`);

  const durationMs = Math.max(10_000, 60_000 * scale);
  log(
    `invoice: ${RATE_PER_SEC} req/s of mixed traffic for ${durationMs / 1000} s, budget $${DAILY_BUDGET_USD}`,
  );
  const samples = await steady({
    ratePerSec: RATE_PER_SEC,
    durationMs,
    make: (i) => oneOf(stack, key, runId, i),
  });
  const lastResponseAt = Date.now();
  const outcomes = samples.map((s) => s.result);

  // The bulk job: let the batch end, then let the cron collect and settle it.
  const bulkSettled = bulkId ? await collectBulk(stack, key, bulkId) : undefined;

  // Nothing may stay reserved 30 s after the last response: drained streams end within 20 s.
  let reservedAfter = Number.NaN;
  let settledAfterMs = Number.NaN;
  for (;;) {
    const budget = await readBudget(stack, stack.adminKey);
    reservedAfter = budget.reserved_usd;
    if (reservedAfter === 0) {
      settledAfterMs = Date.now() - lastResponseAt;
      break;
    }
    if (Date.now() - lastResponseAt > 30_000 + (bulkSettled?.waitedMs ?? 0)) break;
    await sleep(500);
  }
  const budget = await readBudget(stack, stack.adminKey);
  const invoice = (await (await simControl(stack, 'GET', `/_sim/invoice?key=${sim}`)).json()) as Invoice;
  return judge({ outcomes, invoice, spendLines, budget, reservedAfter, settledAfterMs, bulkSettled, log });
}

/** Request `i` of the mix. */
function oneOf(stack: RunStack, key: string, runId: string, i: number): Promise<Outcome> {
  const tag = `invoice ${runId} #${i}`;
  const slot = i % 20;
  if (slot < 2) return call(stack, key, 'creative+image', '/v1/creatives', creative(tag, true));
  if (slot < 5) return call(stack, key, 'creative', '/v1/creatives', creative(tag, false));
  if (slot < 9)
    return call(stack, key, 'opportunities', '/v1/opportunities', { intent: `${tag} trail shoes` });
  if (slot === 9) {
    const items = [0, 1, 2].map((n) => creative(`${tag}.${n}`, false));
    return call(stack, key, 'creatives-batch', '/v1/creatives/batch', { items });
  }
  if (slot === 10) {
    // Tools: a function tool is forwarded and priced; a built-in tool is refused before any spend.
    return i % 40 < 20
      ? call(stack, key, 'chat+function-tool', '/openai/v1/chat/completions', {
          model: 'gpt-6-luna',
          messages: [{ role: 'user', content: `${tag}: which boot size fits a 27 cm foot?` }],
          tools: [{ type: 'function', function: { name: 'size_chart', parameters: { type: 'object' } } }],
          max_completion_tokens: 2000,
        })
      : call(stack, key, 'responses+web-search', '/openai/v1/responses', {
          model: 'gpt-6-luna',
          input: `${tag}: current boot prices`,
          tools: [{ type: 'web_search' }],
        });
  }
  const stream = slot >= 15;
  // Every third round of twenty requests cuts its streams.
  const cut = stream && Math.floor(i / 20) % 3 === 0;
  if (slot % 2 === 0) {
    return call(
      stack,
      key,
      stream ? 'chat-stream' : 'chat',
      '/openai/v1/chat/completions',
      {
        model: 'gpt-6-luna',
        messages: [{ role: 'user', content: `${tag}: describe a waterproof boot for wet trails` }],
        max_completion_tokens: 3000,
        reasoning_effort: 'low',
        ...(stream ? { stream: true } : {}),
      },
      cut,
    );
  }
  return call(
    stack,
    key,
    stream ? 'responses-stream' : 'responses',
    '/openai/v1/responses',
    {
      model: 'gpt-6-luna',
      input: `${tag}: write a product blurb for a rain jacket`,
      max_output_tokens: 3000,
      reasoning: { effort: 'low' },
      ...(stream ? { stream: true } : {}),
    },
    cut,
  );
}

function creative(tag: string, needsVisual: boolean) {
  return {
    opportunity: {
      id: tag.replace(/\W+/g, '_'),
      product_category: 'boots',
      description: `${tag} waterproof boots`,
    },
    // Creatives are cached by category, audience, voice and tone: a distinct audience is a miss.
    target_audience: `hikers of ${tag}`,
    brand_voice: 'warm and practical',
    needs_visual: needsVisual,
  };
}

/** Sends one request; a cut one reads its first bytes, then goes away. */
async function call(
  stack: RunStack,
  key: string,
  kind: string,
  path: string,
  body: unknown,
  cut = false,
): Promise<Outcome> {
  const started = performance.now();
  const controller = new AbortController();
  try {
    const res = await fetch(`${stack.gatewayUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.any([controller.signal, AbortSignal.timeout(240_000)]),
    });
    const requestId = res.headers.get('x-request-id');
    if (cut && res.status === 200 && res.body) {
      const reader = res.body.getReader();
      await reader.read();
      await reader.cancel();
      controller.abort();
    } else if (res.status !== 200) {
      const code = ((await res.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code;
      return {
        kind,
        status: res.status,
        requestId,
        ...(code ? { code } : {}),
        ms: performance.now() - started,
      };
    } else {
      await res.arrayBuffer();
    }
    return {
      kind,
      status: res.status,
      requestId,
      ...(cut ? { cut: true } : {}),
      ms: performance.now() - started,
    };
  } catch {
    return { kind, status: 0, requestId: null, ms: performance.now() - started };
  }
}

/** Waits for the batch to end, then runs the bulk poll cron until the job has settled. */
async function collectBulk(stack: RunStack, key: string, id: string) {
  const started = Date.now();
  for (let round = 0; round < 60; round++) {
    await fetch(`${stack.gatewayUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent('*/10 * * * *')}`);
    const job = await gw(stack, `/v1/batches/${id}`, { key });
    const body = job.body as { status?: string; cost?: { spent_usd: number; settled: boolean } } | undefined;
    if (body?.cost?.settled)
      return { status: body.status, spentUsd: body.cost.spent_usd, waitedMs: Date.now() - started };
    await sleep(2_000);
  }
  return { status: 'unsettled', spentUsd: Number.NaN, waitedMs: Date.now() - started };
}

function simControl(stack: RunStack, method: string, path: string): Promise<Response> {
  return fetch(`${stack.simulatorUrl}${path}`, { method });
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

function judge(input: {
  outcomes: Outcome[];
  invoice: Invoice;
  spendLines: SpendLine[];
  budget: { spent_usd: number; reserved_usd: number; limit_usd: number };
  reservedAfter: number;
  settledAfterMs: number;
  bulkSettled: { status?: string | undefined; spentUsd: number; waitedMs: number } | undefined;
  log: (line: string) => void;
}) {
  const { outcomes, invoice, spendLines, budget, bulkSettled } = input;
  const findings: string[] = [];
  const lost: Record<string, number> = {};

  // The ledger and the invoice, request by request (the id every upstream call of it sent).
  const ledgerBy = new Map<string, { cost: number; atReservation: boolean }>();
  for (const line of spendLines) {
    const entry = ledgerBy.get(line.request_id) ?? { cost: 0, atReservation: false };
    entry.cost += line.cost_usd;
    entry.atReservation ||= line.estimated === true;
    ledgerBy.set(line.request_id, entry);
  }
  const billedBy = new Map<string, { usd: number; abandoned: boolean }>();
  let batchUsd = 0;
  for (const line of invoice.lines) {
    if (!line.request_id) {
      batchUsd += line.usd;
      continue;
    }
    const entry = billedBy.get(line.request_id) ?? { usd: 0, abandoned: false };
    entry.usd += line.usd;
    entry.abandoned ||= line.abandoned;
    billedBy.set(line.request_id, entry);
  }
  const kindOf = new Map(
    outcomes.flatMap((o) => (o.requestId ? [[o.requestId, o.cut ? `${o.kind}+cut` : o.kind]] : [])) as [
      string,
      string,
    ][],
  );
  const excessByKind: Record<string, number> = {};
  let seen = 0;
  let mismatched = 0;
  let under = 0;
  let excess = 0;
  let unledgered = 0;
  const worst: string[] = [];
  for (const [id, billed] of billedBy) {
    const ledger = ledgerBy.get(id);
    if (!ledger) {
      if (billed.usd > 0) {
        unledgered += billed.usd;
        worst.push(`${id}: billed $${round6(billed.usd)} with no ledger line`);
      }
      continue;
    }
    if (!ledger.atReservation && !billed.abandoned) {
      seen += 1;
      if (Math.abs(ledger.cost - billed.usd) > Math.max(0.01 * billed.usd, 0.0001)) {
        mismatched += 1;
        worst.push(`${id}: ledger $${round6(ledger.cost)} vs invoice $${round6(billed.usd)}`);
      }
    } else if (ledger.cost + 1e-9 < billed.usd) {
      under += billed.usd - ledger.cost;
      worst.push(`${id}: charged $${round6(ledger.cost)} below the invoice's $${round6(billed.usd)}`);
    } else {
      excess += ledger.cost - billed.usd;
      const kind = kindOf.get(id) ?? 'unknown';
      excessByKind[kind] = round6((excessByKind[kind] ?? 0) + ledger.cost - billed.usd);
    }
  }
  const bulkDiff = bulkSettled ? Math.abs(bulkSettled.spentUsd - batchUsd) : 0;

  const images = outcomes.filter((o) => o.kind === 'creative+image');
  const imagesServed = images.filter((o) => o.status === 200).length;
  // An image that was asked for and did not come back (a copy that timed out with no room left to
  // retry, or the budget, are not image failures).
  const imageLines = invoice.lines.filter((l) => l.endpoint === '/v1/images/generations');
  const imageAsked = new Set(imageLines.map((l) => l.request_id));
  const imagesFailed = images.filter((o) => o.status !== 200 && imageAsked.has(o.requestId)).length;
  const abandonedImages = imageLines.filter((l) => l.abandoned).length;
  const streams = outcomes.filter((o) => o.kind.endsWith('-stream'));
  const cutShare = streams.length ? streams.filter((o) => o.cut).length / streams.length : 0;
  const textLines = invoice.lines.filter(
    (l) => l.endpoint === '/v1/responses' || l.endpoint === '/v1/chat/completions',
  );
  const timedOut = textLines.filter((l) => l.abandoned).length;
  const timedOutShare = textLines.length ? timedOut / textLines.length : 0;
  const budgetRefusals = outcomes.filter((o) => o.status === 429).length;
  const refusedTools = outcomes.filter((o) => o.kind === 'responses+web-search');

  const check = (ok: boolean, name: string, message: string) => {
    if (!ok) {
      lost[name] = (lost[name] ?? 0) + 1;
      findings.push(message);
    }
  };
  check(
    invoice.total_usd <= DAILY_BUDGET_USD + 1e-9,
    'overspend',
    `the invoice ($${invoice.total_usd}) is over the budget`,
  );
  check(
    budget.spent_usd + 1e-9 >= invoice.total_usd,
    'ledger_below_invoice',
    `the ledger ($${budget.spent_usd}) records less than the invoice ($${invoice.total_usd})`,
  );
  check(
    mismatched === 0,
    'cost_mismatch',
    `${mismatched} of ${seen} calls seen to their end disagree with the invoice`,
  );
  check(under === 0, 'undercharged', `calls charged below their bill by $${round6(under)}`);
  check(unledgered === 0, 'unledgered', `$${round6(unledgered)} billed for calls with no ledger line`);
  check(
    excess <= 0.1 * invoice.total_usd,
    'excess',
    `the excess ($${round6(excess)}) is over 10 % of the invoice`,
  );
  check(
    input.reservedAfter === 0,
    'left_reserved',
    `$${input.reservedAfter} still reserved 30 s after the last response`,
  );
  check(
    abandonedImages === 0 && imagesFailed === 0,
    'image_failed',
    `${imagesFailed} creatives with images failed, ${abandonedImages} images were abandoned`,
  );
  check(imagesServed > 0, 'no_images', 'no creative with an image was served');
  check(
    budgetRefusals > 0,
    'budget_not_reached',
    'the budget was never reached: the drill did not test the limit',
  );
  check(cutShare >= 0.1, 'few_cuts', `only ${Math.round(cutShare * 100)} % of streams were cut`);
  check(
    timedOut >= fewestTimeouts(textLines.length),
    'few_timeouts',
    `only ${timedOut} text calls (${Math.round(timedOutShare * 100)} %) timed out`,
  );
  check(
    refusedTools.every((o) => o.status === 400),
    'tool_passed',
    'a built-in tool was not refused',
  );
  check(
    bulkSettled !== undefined && bulkDiff <= Math.max(0.01 * batchUsd, 0.0001),
    'bulk_mismatch',
    `bulk job settled $${bulkSettled?.spentUsd} vs its batch lines' $${round6(batchUsd)}`,
  );
  findings.push(...worst.slice(0, 5));

  const byKind: Record<string, Record<string, number>> = {};
  for (const o of outcomes) {
    const kind = byKind[o.kind] ?? {};
    const label = o.code ? `${o.status} ${o.code}` : String(o.status);
    kind[label] = (kind[label] ?? 0) + 1;
    byKind[o.kind] = kind;
  }
  const figures = {
    budget_usd: DAILY_BUDGET_USD,
    invoice_usd: round6(invoice.total_usd),
    ledger_spent_usd: round6(budget.spent_usd),
    invoice_requests: invoice.requests,
    invoice_abandoned: invoice.abandoned,
    calls_seen_to_end: seen,
    calls_mismatched: mismatched,
    excess_usd: round6(excess),
    excess_share: invoice.total_usd ? round6(excess / invoice.total_usd) : 0,
    excess_by_kind: excessByKind,
    bulk: bulkSettled
      ? { status: bulkSettled.status, settled_usd: bulkSettled.spentUsd, invoice_usd: round6(batchUsd) }
      : null,
    settled_after_last_response_ms: input.settledAfterMs,
    requests: outcomes.length,
    budget_refusals: budgetRefusals,
    streams_cut_share: round6(cutShare),
    text_calls_timed_out_share: round6(timedOutShare),
    creatives_with_image: { sent: images.length, served: imagesServed },
    by_kind: byKind,
    by_model_usd: Object.fromEntries(Object.entries(invoice.by_model).map(([m, v]) => [m, round6(v.usd)])),
  };
  const ok = Object.keys(lost).length === 0;
  input.log(
    `invoice: $${figures.invoice_usd} billed, ledger $${figures.ledger_spent_usd}, excess $${figures.excess_usd}`,
  );
  input.log(`invoice: ${JSON.stringify(figures)}`);
  return {
    name: 'invoice',
    title: 'Invoice: the ledger against what OpenAI would bill',
    ok,
    verdict: ok
      ? `invoice $${figures.invoice_usd} ≤ budget $${DAILY_BUDGET_USD}; ledger $${figures.ledger_spent_usd}; ${seen} calls match their invoice line; excess ${Math.round(figures.excess_share * 1000) / 10} %`
      : `failed: ${findings[0]}`,
    lost,
    figures,
    findings,
  };
}
