/** A bulk job as the API shows it: status, progress counts, cost, and (once final) a page of results. */
import type { Nanos } from '../budget';
import { nanosToUsd } from '../pricing';
import type { Usage } from '../providers';
import type { ItemResult, JobRecord, JobStatus } from './job';

/** Statuses after which nothing changes. */
export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set([
  'completed',
  'failed',
  'expired',
  'cancelled',
]);

export interface ResultsPage {
  offset: number;
  limit: number;
  /** The stored results of `[offset, offset + limit)`; null where an index has none (yet). */
  results: (ItemResult | null)[];
}

/**
 * The job's body. `cost.spent_usd` is what was settled once the job is final, and until then what the
 * batch has billed so far at the batch price (`costOf` its usage).
 */
export function jobView(record: JobRecord, costOf: (usage: Usage) => Nanos, page?: ResultsPage) {
  const { job, status, progress, collect, settled } = record;
  const final = FINAL_STATUSES.has(status);
  const spent = settled?.nanos ?? (progress ? costOf(progress.usage) : 0);
  const body = {
    id: job.id,
    object: 'bulk_job',
    task: job.task,
    status,
    model: job.model,
    counts: {
      total: job.total,
      submitted: job.submitted,
      completed: progress?.completed ?? 0,
      failed: progress?.failed ?? 0,
      approved: collect.approved,
      rejected: collect.rejected,
      errored: collect.errored,
    },
    cost: {
      reserved_usd: nanosToUsd(job.reservation?.amount ?? 0),
      spent_usd: nanosToUsd(spent),
      settled: settled !== undefined,
    },
    metadata: job.metadata,
    created_at: job.created_at,
    finished_at: settled?.finished_at ?? null,
  };
  if (!final || !page) return body;
  const end = Math.min(job.total, page.offset + page.limit);
  const results = page.results.slice(0, Math.max(0, end - page.offset)).filter((r) => r !== null);
  return { ...body, results, offset: page.offset, limit: page.limit, has_more: end < job.total };
}
