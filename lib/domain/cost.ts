/**
 * What a structured task may cost at worst (the reservation) and what it did cost (the settle).
 * The worst case covers the first call and the one more call an unusable answer gets.
 */
import { z } from 'zod';
import { InvalidModelOutputError, MisconfiguredError } from '../errors';
import { costOf, estimateTextCost, type ModelPrice, type Nanos, type PriceTable } from '../pricing';
import { callCap, INCOMPLETE_RETRY_FACTOR, type StructuredTask, type Usage } from '../providers';
import { loadTokenCounter } from '../tokens';

/** Tokens the repair turn adds besides the repeated answer (its instruction and framing). */
const REPAIR_PROMPT_TOKENS = 96;

/**
 * The most any candidate model could bill for `task`: the first call plus the one more call an unusable
 * answer gets, whichever costs more of a repair (the first answer repeated as input) or the retry of an
 * answer cut off at its cap (the same input, INCOMPLETE_RETRY_FACTOR times the cap). Models the price
 * table does not know are refused: the gateway never calls what it cannot price.
 */
export async function worstCaseStructured(
  prices: PriceTable,
  models: string[],
  task: StructuredTask<unknown>,
): Promise<StructuredWorstCase> {
  const { estimateInputTokens } = await loadTokenCounter();
  const input = estimateInputTokens({
    instructions: task.instructions,
    input: task.input,
    schema: z.toJSONSchema(task.schema),
  });
  const perModel = models.map((model) => {
    const price = priceOf(prices, model);
    const cap = callCap(task, model);
    const first = estimateTextCost(price, input, cap);
    const repair = estimateTextCost(price, input + cap + REPAIR_PROMPT_TOKENS, cap);
    const larger = estimateTextCost(price, input, callCap(task, model, INCOMPLETE_RETRY_FACTOR));
    const second = Math.max(repair, larger);
    return { total: first + second, attempt: { first, second }, tokens: input + cap };
  });
  return {
    total: Math.max(...perModel.map((m) => m.total)),
    tokens: Math.max(...perModel.map((m) => m.tokens)),
    attempt: {
      first: Math.max(...perModel.map((m) => m.attempt.first)),
      second: Math.max(...perModel.map((m) => m.attempt.second)),
    },
  };
}

/** The worst case of a structured task's first call, and of the one more call it may get. */
export interface AttemptNanos {
  first: Nanos;
  second: Nanos;
}

export interface StructuredWorstCase {
  /** The whole task: its first call and the one more an unusable answer gets. */
  total: Nanos;
  /** Each call's worst case: what an attempt of it the provider may have billed is charged. */
  attempt: AttemptNanos;
  /** The first call's tokens as reserved (input estimate + output cap): what its units of work count. */
  tokens: number;
}

/** What a served call cost, priced with the model that served it. */
export function actualCost(prices: PriceTable, model: string, usage: Usage): Nanos {
  return costOf(priceOf(prices, model), usage);
}

export function priceOf(prices: PriceTable, model: string): ModelPrice {
  const price = prices.price(model);
  if (!price) {
    throw new MisconfiguredError({
      message: `No price is configured for model ${model}; add it to PRICING_OVERRIDES.`,
    });
  }
  return price;
}

/**
 * How a structured generation is settled: what the served model billed, and for an output that stayed
 * invalid after its repair, what both calls billed (priced with `fallbackModel`, the one asked for;
 * a function when the model is only chosen once the reservation says which tier it got).
 */
export function structuredCost(prices: PriceTable, fallbackModel: string | (() => string)) {
  return {
    value: (r: { model: string; usage: Usage }) => actualCost(prices, r.model, r.usage),
    error: (err: unknown) =>
      err instanceof InvalidModelOutputError && err.usage
        ? actualCost(prices, typeof fallbackModel === 'string' ? fallbackModel : fallbackModel(), err.usage)
        : 0,
  };
}
