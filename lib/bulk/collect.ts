/**
 * Turns a chunk of a finished batch's lines into results, the way the single endpoint treats one answer:
 * the output is validated with the task's zod schema (no repair call in bulk: an invalid output is an
 * item error; an answer cut off at its cap may be asked again once with twice the cap, see poll.ts), the client's text and the generated text (opportunities, or a creative's copy) go through all
 * three moderation layers, and only a validated, approved value is cached (with the single endpoint's key and value, so a
 * later single call is a hit) and returned.
 */
import { assertInputApproved } from '../domain/verdicts';
import type { Verdict } from '../moderation';
import type { Usage } from '../providers';
import { addUsage, ZERO_USAGE } from '../providers/usage';
import { type ItemError, refusalOf } from './errors';
import type { ItemResult, StoredItem } from './job';
import { invalidOutput, type LineOutcome } from './lines';
import type { AnyBulkTask } from './tasks';

export interface CollectedChunk {
  results: ItemResult[];
  /** Cache key → value, for the approved items. */
  writes: [string, unknown][];
  /** What every line of the chunk billed, usable or not. */
  usage: Usage;
  approved: number;
  rejected: number;
  errored: number;
}

interface Candidate {
  index: number;
  item: StoredItem;
  output: unknown;
  /** Where its texts start in the moderated list: the client's text, then the generated text. */
  at: number;
}

/**
 * Collects submitted `items` (with their indexes) from `lines`. `missing` is the error of an item the
 * batch has no line for (it expired, was cancelled or failed first).
 * @throws whatever `moderate` throws (moderation unavailable): the chunk is then left for a later run.
 */
export async function collectChunk(
  task: AnyBulkTask,
  items: { index: number; item: StoredItem }[],
  lines: Map<string, LineOutcome>,
  missing: ItemError,
  moderate: (texts: string[]) => Promise<Verdict[]>,
  /** Asks a line cut off at its cap again with a larger one; undefined when it may not (no room). */
  retry?: (index: number, line: LineOutcome) => Promise<LineOutcome | undefined>,
): Promise<CollectedChunk> {
  const chunk: CollectedChunk = {
    results: [],
    writes: [],
    usage: ZERO_USAGE,
    approved: 0,
    rejected: 0,
    errored: 0,
  };
  const fail = (index: number, error: ItemError, rejected = false) => {
    chunk.results.push({ index, ok: false, error });
    if (rejected) chunk.rejected += 1;
    else chunk.errored += 1;
  };
  const texts: string[] = [];
  const candidates: Candidate[] = [];
  for (const { index, item } of items) {
    let line = lines.get(String(index));
    if (!line) {
      fail(index, missing);
      continue;
    }
    chunk.usage = addUsage(chunk.usage, line.usage);
    // The retry's own cost (standard price) is counted by `retry`, not in the batch's usage.
    if ('capped' in line && line.capped && retry) line = (await retry(index, line)) ?? line;
    const output = 'error' in line ? line : validate(task, line.text);
    if ('error' in output) {
      fail(index, output.error);
      continue;
    }
    candidates.push({ index, item, output: output.data, at: texts.length });
    texts.push(item.text, task.outputText(output.data));
  }
  const verdicts = texts.length ? await moderate(texts) : [];
  for (const { index, item, output, at } of candidates) {
    const input = verdicts[at] as Verdict;
    const generated = verdicts[at + 1] as Verdict;
    const refusal = refusalOf(() => {
      assertInputApproved(input, task.inputParam);
      task.assertOutputApproved(generated);
    });
    if (refusal) {
      fail(index, refusal, true);
      continue;
    }
    const value = await task.cached(output, generated.checked);
    // Only what all three layers passed is cached: a result the local layers alone checked (the
    // moderation API was down, MODERATION_FAIL_CLOSED=false) is served in the job, never to a later request.
    if (![input, generated].some((v) => v.checked.openai === 'unavailable'))
      chunk.writes.push([item.key, value]);
    chunk.results.push({ index, ok: true, ...task.result(value) });
    chunk.approved += 1;
  }
  chunk.results.sort((a, b) => a.index - b.index);
  return chunk;
}

/** Parses and validates an output with the task's schema, length limits included. */
function validate(task: AnyBulkTask, text: string): { data: unknown } | { error: ItemError } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: invalidOutput('the answer is not valid JSON') };
  }
  const result = task.output.safeParse(json);
  if (result.success) return { data: result.data };
  const problems = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { error: invalidOutput(problems) };
}
