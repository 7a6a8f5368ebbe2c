/**
 * Answers of a finished batch cut off at their output cap (reasoning counts against it), asked again once
 * with INCOMPLETE_RETRY_FACTOR times the cap, as a single structured call is: each a direct call at the
 * standard price that replays the item's own request from the job's input file. A retry is made only
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
  /** The job's input file (JSONL), read once, on the first retry. */
  inputFile: () => Promise<string>;
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
      requests ??= readRequests(await deps.inputFile());
      const body = requests.get(String(index));
      const cap = (body?.max_output_tokens ?? 0) * INCOMPLETE_RETRY_FACTOR;
      if (!body || cap === 0) return undefined;
      const worst = estimateTextCost(deps.price, line.usage.inputTokens, cap);
      if (batch + spent + worst > deps.reservedNanos) return undefined;
      retried += 1;
      try {
        const outcome = fromResponse(await deps.respond({ ...body, max_output_tokens: cap }));
        spent += costOf(deps.price, outcome.usage);
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

/** The request of each line of an input file, by custom_id. */
function readRequests(file: string): Map<string, ResponseCreateParamsNonStreaming> {
  const requests = new Map<string, ResponseCreateParamsNonStreaming>();
  for (const raw of file.split('\n')) {
    if (!raw.trim()) continue;
    try {
      const line = JSON.parse(raw) as { custom_id?: unknown; body?: ResponseCreateParamsNonStreaming };
      if (typeof line.custom_id === 'string' && line.body) requests.set(line.custom_id, line.body);
    } catch {
      // not a line we wrote
    }
  }
  return requests;
}
