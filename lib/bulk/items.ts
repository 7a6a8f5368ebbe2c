/**
 * A bulk request's items at submission: each validated with its task's request schema (any invalid item
 * refuses the whole job, at no cost), then screened by the local moderation layers, which are free. An
 * item they refuse is not submitted and gets the error the single endpoint's 400 would carry; the
 * moderation API's verdict on the rest comes at collection, so submitting costs no upstream call.
 */
import { assertInputApproved } from '../domain/verdicts';
import { InvalidRequestError } from '../errors';
import type { ModerationRules } from '../moderation';
import { refusalOf } from './errors';
import type { ItemResult } from './job';
import { localVerdict } from './moderate';
import type { AnyBulkTask } from './tasks';

/** Invalid items listed in a 400's details; the count says how many there were in all. */
const LISTED_INVALID = 100;

/**
 * The items parsed with the task's schema, in order.
 * @throws InvalidRequestError naming each invalid item's index and problems (`details.invalid_items`).
 */
export function validateItems(task: AnyBulkTask, items: unknown[]): unknown[] {
  const parsed: unknown[] = [];
  const invalid: { index: number; problems: { param: string; message: string }[] }[] = [];
  items.forEach((item, index) => {
    const result = task.request.safeParse(item);
    if (result.success) parsed.push(result.data);
    else {
      const problems = result.error.issues
        .slice(0, 5)
        .map((i) => ({ param: i.path.join('.'), message: i.message }));
      invalid.push({ index, problems });
    }
  });
  const first = invalid[0];
  if (!first) return parsed;
  const where = (index: number, param: string) => `items.${index}${param ? `.${param}` : ''}`;
  const summary = invalid
    .slice(0, 3)
    .map(({ index, problems }) => `${where(index, problems[0]?.param ?? '')}: ${problems[0]?.message}`)
    .join('; ');
  throw new InvalidRequestError({
    message: `${invalid.length} of ${items.length} items are invalid (${summary}${invalid.length > 3 ? '; …' : ''}).`,
    param: where(first.index, first.problems[0]?.param ?? ''),
    details: { invalid_count: invalid.length, invalid_items: invalid.slice(0, LISTED_INVALID) },
  });
}

/** Splits validated items into those to submit and the refused ones' results. */
export function screenItems(
  task: AnyBulkTask,
  requests: unknown[],
  rules: ModerationRules,
): { accepted: { index: number; request: unknown }[]; refused: ItemResult[] } {
  const accepted: { index: number; request: unknown }[] = [];
  const refused: ItemResult[] = [];
  requests.forEach((request, index) => {
    const verdict = localVerdict(task.inputText(request), rules);
    const error = verdict && refusalOf(() => assertInputApproved(verdict, task.inputParam));
    if (error) refused.push({ index, ok: false, error });
    else accepted.push({ index, request });
  });
  return { accepted, refused };
}
