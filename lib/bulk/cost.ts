/**
 * What a bulk job may cost at worst (its reservation) and what it did cost (its settle), at the Batch
 * API's price: 50 % of Standard on input and output (lib/pricing `tier: 'batch'`), exact in nanodollars.
 */
import { z } from 'zod';
import { costOf, estimateTextCost, type ModelPrice, type Nanos } from '../pricing';
import { callCap, INCOMPLETE_RETRY_FACTOR, type StructuredTask, type Usage } from '../providers';
import { loadTokenCounter, SAFETY_MARGIN_PERCENT } from '../tokens';

/**
 * The most `tasks` can cost as one batch on `model`: each item's input estimate plus every allowed output
 * token (reasoning included), at the batch price, plus `retrySlots` retries at twice the cap (standard
 * price) for answers cut off at it; no repair share. The instructions and schema are the same for every
 * item of a task, so they are counted once per task (tokenising them per item
 * would cost seconds of CPU for a large job); only each item's own input is counted per item, with the
 * same proportional margin `estimateInputTokens` applies. Splitting the margin can only round up.
 */
export async function bulkWorstCase(
  price: ModelPrice,
  model: string,
  tasks: StructuredTask<unknown>[],
  retrySlots = 0,
): Promise<Nanos> {
  const { countTextTokens, estimateInputTokens } = await loadTokenCounter();
  const shared = new Map<string, number>();
  let total = 0;
  let costliestRetry = 0;
  for (const task of tasks) {
    const schema = () => z.toJSONSchema(task.schema);
    let input: number;
    if (typeof task.input === 'string') {
      const kind = `${task.name}\u0000${task.instructions}`;
      let fixed = shared.get(kind);
      if (fixed === undefined) {
        // Everything but the item's own text, with estimateInputTokens's overheads and fixed margin.
        fixed = estimateInputTokens({ instructions: task.instructions, input: '', schema: schema() });
        shared.set(kind, fixed);
      }
      const own = countTextTokens(task.input);
      input = fixed + own + Math.ceil((own * SAFETY_MARGIN_PERCENT) / 100);
    } else {
      input = estimateInputTokens({ instructions: task.instructions, input: task.input, schema: schema() });
    }
    total += estimateTextCost(price, input, callCap(task, model), 'batch');
    if (retrySlots > 0) {
      const retry = estimateTextCost(price, input, callCap(task, model, INCOMPLETE_RETRY_FACTOR));
      costliestRetry = Math.max(costliestRetry, retry);
    }
  }
  // The retries of answers cut off at their cap, made one by one at the standard price.
  return total + retrySlots * costliestRetry;
}

/** What a batch's usage cost at the batch price, rounded up to a whole nano once for the whole job. */
export function batchCost(price: ModelPrice, usage: Usage): Nanos {
  return costOf(price, usage, 'batch');
}
