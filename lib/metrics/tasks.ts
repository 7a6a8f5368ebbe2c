/**
 * Token efficiency per structured task (`creative`, `creatives`, `opportunities`, `image_analysis`):
 * what its calls billed and what they bought. Fields are `t|task|measure`, with neither endpoint nor
 * model: task names are a fixed set in code, so a minute's hash gains at most
 * TASK_MEASURES.length fields per task (fewer, since zero increments are never written). The same
 * tokens and cost are also in the `u|…` series; these fields only add the task dimension. Bulk jobs
 * add theirs from the poll (lib/bulk/cron.ts), which no `u|…` series sees.
 */
import { nanosToUsd } from '../pricing';
import type { Usage } from '../providers/usage';
import { field } from './fields';

/**
 * Measures of a task series: calls, input, cached input, cache-write, output and reasoning tokens,
 * cost in nanos, and approved results (a creative that passed moderation and was returned; an
 * opportunity set served from a fresh generation).
 */
export const TASK_MEASURES = ['n', 'in', 'cached', 'cw', 'out', 'reason', 'cost', 'ok'] as const;
export type TaskMeasure = (typeof TASK_MEASURES)[number];

/**
 * The increments of `calls` calls of `task` (one, or a bulk job's chunk of lines): their usage, when
 * they returned one, and their cost.
 */
export function taskCallFields(
  task: string,
  usage: Usage | undefined,
  costNanos: number,
  calls = 1,
): [string, number][] {
  const of = (measure: TaskMeasure, value: number): [string, number] => [field('t', task, measure), value];
  return [
    of('n', calls),
    of('in', usage?.inputTokens ?? 0),
    of('cached', usage?.cachedTokens ?? 0),
    of('cw', usage?.cacheWriteTokens ?? 0),
    of('out', usage?.outputTokens ?? 0),
    of('reason', usage?.reasoningTokens ?? 0),
    of('cost', costNanos),
  ];
}

/** The field counting `task`'s approved results. */
export const approvedField = (task: string) => field('t', task, 'ok');

/** Adds `calls` calls of `task`, and the approved results they made, to `into` (written later, at once). */
export function addTaskCalls(
  into: Map<string, number>,
  task: string,
  counted: { calls: number; usage: Usage; costNanos: number; approved: number },
): void {
  const fields = taskCallFields(task, counted.usage, counted.costNanos, counted.calls);
  for (const [name, by] of [...fields, [approvedField(task), counted.approved] as const]) {
    if (by) into.set(name, (into.get(name) ?? 0) + Math.round(by));
  }
}

/** The share of input tokens served from the provider's prompt cache; null without input. */
export const cachedShare = (cachedTokens: number, inputTokens: number): number | null =>
  inputTokens > 0 ? cachedTokens / inputTokens : null;

/** What one approved result cost in USD, every call of the task included; null without one. */
export const costPerApproved = (costNanos: number, approved: number): number | null =>
  approved > 0 ? nanosToUsd(costNanos) / approved : null;

/** One task's row of the summary. */
export interface TaskEfficiency {
  task: string;
  calls: number;
  input_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  approved_results: number;
  /** cached_tokens / input_tokens; null without input. */
  cached_share: number | null;
  /** cost_usd / approved_results; null without an approved result. */
  cost_per_approved_result: number | null;
}

const IS_MEASURE = new Set<string>(TASK_MEASURES);

/** Sums `t|…` fields (read with `split`: task, measure) into one row per task. */
export function createTaskTotals() {
  const byTask = new Map<string, Record<TaskMeasure, number>>();
  return {
    add(task: string, measure: string, value: number): void {
      if (!IS_MEASURE.has(measure)) return;
      let row = byTask.get(task);
      if (!row) {
        row = Object.fromEntries(TASK_MEASURES.map((m) => [m, 0])) as Record<TaskMeasure, number>;
        byTask.set(task, row);
      }
      row[measure as TaskMeasure] += value;
    },
    /** The rows, by task name. */
    rows(): TaskEfficiency[] {
      return [...byTask.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([task, m]) => ({
          task,
          calls: m.n,
          input_tokens: m.in,
          cached_tokens: m.cached,
          cache_write_tokens: m.cw,
          output_tokens: m.out,
          reasoning_tokens: m.reason,
          cost_usd: nanosToUsd(m.cost),
          approved_results: m.ok,
          cached_share: cachedShare(m.cached, m.in),
          cost_per_approved_result: costPerApproved(m.cost, m.ok),
        }));
    },
  };
}

const TOKENS = { name: 'cag_task_tokens_total', help: 'Tokens billed per structured task.' };
/** The Prometheus family of each measure; token measures share one, told apart by `type`. */
const FAMILIES: Record<TaskMeasure, { name: string; help: string; type?: string }> = {
  n: { name: 'cag_task_calls_total', help: 'Upstream calls per structured task (repairs included).' },
  in: { ...TOKENS, type: 'input' },
  cached: { ...TOKENS, type: 'cached' },
  cw: { ...TOKENS, type: 'cache_write' },
  out: { ...TOKENS, type: 'output' },
  reason: { ...TOKENS, type: 'reasoning' },
  cost: { name: 'cag_task_cost_usd_total', help: 'Cost of structured task calls in USD.' },
  ok: {
    name: 'cag_task_approved_results_total',
    help: 'Approved results per structured task (creatives returned, fresh opportunity sets).',
  },
};

/** The Prometheus counter sample of one `t|task|measure` total. */
export function taskCounter(task: string, measure: string, value: number) {
  if (!IS_MEASURE.has(measure)) return undefined;
  const { name, help, type } = FAMILIES[measure as TaskMeasure];
  const labels: Record<string, string> = type ? { task, type } : { task };
  return { name, help, labels, value: measure === 'cost' ? nanosToUsd(value) : value };
}
