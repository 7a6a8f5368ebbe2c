/**
 * Answers of a finished batch cut off at their output cap (reasoning counts against it), asked again once
 * with INCOMPLETE_RETRY_FACTOR times the cap, as a single structured call is: each a direct call at the
 * standard price that replays the item's own request from the job's input file (read as it downloads,
 * keeping only the requests of the run's own items). A retry is made only
 * while the job's reservation has room for its worst case after the whole batch's cost: the reservation
 * holds `BULK_RETRY_PERCENT` of the items' retries (lib/bulk/cost.ts).
 */
import { APIError } from 'openai';
import type { Response, ResponseCreateParamsNonStreaming } from 'openai/resources/responses/responses';
import type { Nanos } from '../budget';
import { costOf, estimateTextCost, type ModelPrice } from '../pricing';
import { INCOMPLETE_RETRY_FACTOR, type Usage } from '../providers';
import { batchCost } from './cost';
import { fromResponse, type LineOutcome } from './lines';
import { linesOf } from './stream-lines';

export interface CutOffRetryDeps {
  /** Makes the call (the job's OpenAI client). */
  respond: (body: ResponseCreateParamsNonStreaming) => Promise<Response>;
  price: ModelPrice;
  /** The job's reservation. */
  reservedNanos: Nanos;
  /** What the whole batch used, from the Batch object: billed whatever is collected. */
  batchUsage: Usage;
  /** Retries made by earlier runs of this collection, and what they cost. */
  retried: number;
  retryNanos: Nanos;
  /** The job's input file (JSONL) as it downloads, read on the first retry. */
  inputFile: () => Promise<ReadableStream<Uint8Array>>;
  /** The item indexes `[from, to)` this run collects: only their requests are kept. */
  window: { from: number; to: number };
  /** Told each retry that answered: its usage and cost (per-task metrics). */
  onCall?: (usage: Usage, costNanos: Nanos) => void;
}

export interface CutOffRetry {
  retry(index: number, line: LineOutcome): Promise<LineOutcome | undefined>;
  /** Retries made so far (earlier runs included), and their cost. */
  state(): { retried: number; retry_nanos: Nanos };
}

export function createCutOffRetry(deps: CutOffRetryDeps): CutOffRetry {
  let retried = deps.retried;
  let spent = deps.retryNanos;
  let requests: Map<string, ResponseCreateParamsNonStreaming> | undefined;
  // Every uncached input token counted as a cache write: the batch's own figures do not say.
  const batch = batchCost(deps.price, {
    ...deps.batchUsage,
    cacheWriteTokens: Math.max(0, deps.batchUsage.inputTokens - deps.batchUsage.cachedTokens),
  });
  return {
    async retry(index, line) {
      requests ??= await readRequests(linesOf(await deps.inputFile()), deps.window);
      const body = requests.get(String(index));
      const cap = (body?.max_output_tokens ?? 0) * INCOMPLETE_RETRY_FACTOR;
      if (!body || cap === 0) return undefined;
      const worst = estimateTextCost(deps.price, line.usage.inputTokens, cap);
      if (batch + spent + worst > deps.reservedNanos) return undefined;
      retried += 1;
      try {
        const outcome = fromResponse(await deps.respond({ ...body, max_output_tokens: cap }));
        const cost = costOf(deps.price, outcome.usage);
        spent += cost;
        deps.onCall?.(outcome.usage, cost);
        return outcome;
      } catch (err) {
        // An answer with an error status is not billed; one we stopped waiting for may be.
        if (!(err instanceof APIError && typeof err.status === 'number')) spent += worst;
        return undefined;
      }
    },
    state: () => ({ retried, retry_nanos: spent }),
  };
}

/**
 * The requests of items `[from, to)` in an input file, by custom_id. The file is read as it downloads and
 * only those lines are kept; it lists items in index order (lib/bulk/jsonl.ts), so the download stops
 * once past `to`.
 */
async function readRequests(
  lines: AsyncIterable<string>,
  { from, to }: { from: number; to: number },
): Promise<Map<string, ResponseCreateParamsNonStreaming>> {
  const requests = new Map<string, ResponseCreateParamsNonStreaming>();
  for await (const raw of lines) {
    if (!raw.trim()) continue;
    try {
      const line = JSON.parse(raw) as { custom_id?: unknown; body?: ResponseCreateParamsNonStreaming };
      const index = Number(line.custom_id);
      if (index >= to) break;
      if (index >= from && typeof line.custom_id === 'string' && line.body)
        requests.set(line.custom_id, line.body);
    } catch {
      // not a line we wrote
    }
  }
  return requests;
}
