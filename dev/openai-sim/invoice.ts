import { type Usage, usageOf } from './meter.ts';
import { priceOf } from './prices.ts';

/**
 * What the simulator would bill, as `GET /_sim/invoice` shows it. Every request it accepted and generated
 * an answer for is billed from its own price list (prices.ts), whether or not the client got the answer:
 * `abandoned: true` marks a line whose client disconnected, timed out or was dropped before the answer was
 * complete (a non-streamed answer is then billed in full, a stream for the tokens generated until the cut).
 * Status faults and rejected requests are not billed; files, models and batch bookkeeping are free; batch
 * lines are billed at 50 % when their batch ends. Money is summed in integer pico-dollars and converted to USD
 * only for display.
 */
export interface Invoice {
  /** Bills one request to the global ledger and to its API key's. */
  add(charge: Charge): void;
  /** The ledger of `key`, or the global one (every key). */
  view(key?: string): InvoiceView;
  /** The total of `key`'s ledger in pico-dollars, without building a view (admission checks it per call). */
  totalPico(key: string): bigint;
  /** Clears the ledger of `key`, or the global one (keyed ledgers stay, as with stats). */
  reset(key?: string): void;
}

/** One billed request, as the pipeline or a finished batch reports it. */
export interface Charge {
  apiKey: string;
  endpoint: string;
  /** The request's `x-client-request-id` header. */
  requestId: string | null;
  abandoned: boolean;
  /** The transport fault that request got, if any. */
  fault: 'timeout' | 'drop' | 'malformed' | null;
  usage: Usage;
  /** Set for a line of a batch. */
  batch?: { id: string; customId: string };
  /** When it was billed, on the scope's clock. */
  atMs: number;
}

/** The body of `GET /_sim/invoice`. */
export interface InvoiceView {
  total_usd: number;
  requests: number;
  abandoned: number;
  by_model: Record<string, ModelTotals>;
  lines: InvoiceLine[];
  /** Oldest lines no longer listed (totals still count them); see MAX_LINES. */
  lines_dropped: number;
}

/** Token counts as invoice lines and totals name them. */
export interface BilledTokens {
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  images: number;
  tool_calls: number;
}

export interface ModelTotals extends BilledTokens {
  requests: number;
  usd: number;
  /** False when some line of this model had no listed price (billed $0 for its tokens). */
  priced: boolean;
}

export interface InvoiceLine extends BilledTokens {
  endpoint: string;
  model: string;
  request_id: string | null;
  abandoned: boolean;
  fault: Charge['fault'];
  service_tier: string;
  batch_id: string | null;
  custom_id: string | null;
  usd: number;
  priced: boolean;
  /** ISO 8601. */
  at: string;
}

/** Lines kept per ledger; older ones drop out of `lines` (not out of the totals). */
export const MAX_LINES = 10_000;

/** Pico-dollars (10⁻¹² USD) per dollar: the invoice's unit. */
export const PICO_PER_USD = 1e12;

/** A model's totals while they add up: money in pico-dollars. */
type RunningTotals = Omit<ModelTotals, 'usd'> & { pico: bigint };

interface Ledger {
  requests: number;
  abandoned: number;
  totalPico: bigint;
  byModel: Map<string, RunningTotals>;
  lines: InvoiceLine[];
  linesDropped: number;
}

/** An empty invoice. */
export function createInvoice(): Invoice {
  let global = emptyLedger();
  const byKey = new Map<string, Ledger>();
  return {
    add(charge) {
      const { pico, priced } = priceOf(charge.usage, { batch: charge.batch !== undefined });
      const line = lineOf(charge, pico, priced);
      let keyed = byKey.get(charge.apiKey);
      if (!keyed) {
        keyed = emptyLedger();
        byKey.set(charge.apiKey, keyed);
      }
      for (const ledger of [global, keyed]) record(ledger, line, pico);
    },
    view: (key) => viewOf(key === undefined ? global : (byKey.get(key) ?? emptyLedger())),
    totalPico: (key) => byKey.get(key)?.totalPico ?? 0n,
    reset(key) {
      if (key === undefined) global = emptyLedger();
      else byKey.delete(key);
    },
  };
}

/** A function that bills one request to `invoice` the first time it is called, and ignores later calls. */
export function billOnce(
  invoice: Invoice,
  charge: Pick<Charge, 'apiKey' | 'endpoint' | 'requestId' | 'fault'> & { nowMs(): number },
): (usage: Usage, abandoned: boolean) => void {
  let billed = false;
  return (usage, abandoned) => {
    if (billed) return;
    billed = true;
    const { nowMs, ...line } = charge;
    invoice.add({ ...line, usage, abandoned, atMs: nowMs() });
  };
}

function lineOf(charge: Charge, pico: number, priced: boolean): InvoiceLine {
  const { usage } = charge;
  return {
    endpoint: charge.endpoint,
    model: usage.model,
    request_id: charge.requestId,
    abandoned: charge.abandoned,
    fault: charge.fault,
    service_tier: charge.batch ? 'batch' : usage.serviceTier,
    batch_id: charge.batch?.id ?? null,
    custom_id: charge.batch?.customId ?? null,
    ...tokensOf(usage),
    usd: pico / PICO_PER_USD,
    priced,
    at: new Date(charge.atMs).toISOString(),
  };
}

function tokensOf(usage: Usage): BilledTokens {
  return {
    input_tokens: usage.inputTokens,
    cached_input_tokens: usage.cachedInputTokens,
    cache_write_tokens: usage.cacheWriteTokens,
    output_tokens: usage.outputTokens,
    reasoning_tokens: usage.reasoningTokens,
    images: usage.images,
    tool_calls: usage.tools.length,
  };
}

const TOKEN_FIELDS = [
  'input_tokens',
  'cached_input_tokens',
  'cache_write_tokens',
  'output_tokens',
  'reasoning_tokens',
  'images',
  'tool_calls',
] as const satisfies ReadonlyArray<keyof BilledTokens>;

function record(ledger: Ledger, line: InvoiceLine, pico: number): void {
  ledger.requests += 1;
  if (line.abandoned) ledger.abandoned += 1;
  ledger.totalPico += BigInt(pico);
  let totals = ledger.byModel.get(line.model);
  if (!totals) {
    totals = { requests: 0, pico: 0n, priced: true, ...tokensOf(usageOf(line.model)) };
    ledger.byModel.set(line.model, totals);
  }
  totals.requests += 1;
  totals.pico += BigInt(pico);
  totals.priced &&= line.priced;
  for (const field of TOKEN_FIELDS) totals[field] += line[field];
  ledger.lines.push(line);
  if (ledger.lines.length > MAX_LINES) {
    ledger.lines.shift();
    ledger.linesDropped += 1;
  }
}

function viewOf(ledger: Ledger): InvoiceView {
  const by_model: Record<string, ModelTotals> = {};
  for (const [model, { pico, ...totals }] of ledger.byModel) {
    by_model[model] = { ...totals, usd: toUsd(pico) };
  }
  return {
    total_usd: toUsd(ledger.totalPico),
    requests: ledger.requests,
    abandoned: ledger.abandoned,
    by_model,
    lines: ledger.lines.map((line) => ({ ...line })),
    lines_dropped: ledger.linesDropped,
  };
}

/** Pico-dollars as USD: exact integer arithmetic up to here, one rounding to a double at the end. */
function toUsd(pico: bigint): number {
  const whole = pico / BigInt(PICO_PER_USD);
  return Number(whole) + Number(pico - whole * BigInt(PICO_PER_USD)) / PICO_PER_USD;
}

function emptyLedger(): Ledger {
  return { requests: 0, abandoned: 0, totalPico: 0n, byModel: new Map(), lines: [], linesDropped: 0 };
}
