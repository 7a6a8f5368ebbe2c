/**
 * The bulk poll, run by a cron: for each running job (least recently polled first), retrieve its batch
 * and record its progress; once OpenAI reports a final status, stage its output and error files once
 * (read line by line as they download, never held whole: lib/bulk/stage.ts), then collect the results
 * in chunks from the staged lines, at most `itemsPerRun` items per run across all jobs so one run stays
 * inside Workers' subrequest limits; once every item is collected, settle the cost and mark the job
 * final. Each job is worked on under a lock, so overlapping runs never collect it twice; every step is
 * safe to repeat after a crash.
 */
import type { Batch } from 'openai/resources/batches';
import { addUsage } from '../providers/usage';
import { collectChunk } from './collect';
import { batchCost } from './cost';
import { download, finish } from './finish';
import {
  ACTIVE_STATUSES,
  type BatchEnd,
  FINAL_BATCH_STATUSES,
  type FinalBatchStatus,
  type JobRecord,
} from './job';
import { type LineOutcome, missingError } from './lines';
import type { PollDeps } from './poll-deps';
import { createCutOffRetry } from './retry';
import { stageLines } from './stage';
import { TASKS } from './tasks';

export type { PollDeps } from './poll-deps';

/** Items moderated and written together: a few moderation calls and well under 1 MB of Redis writes. */
const CHUNK_ITEMS = 50;

export interface PollOptions {
  /** Running jobs looked at per run. */
  jobsPerRun: number;
  /** Items collected per run, across jobs. */
  itemsPerRun: number;
  /** How long a job's lock holds; longer than one job's work in a run. */
  lockMs: number;
}

/** One poll over the running jobs; returns how many were looked at and how many items were collected. */
export async function pollJobs(
  deps: PollDeps,
  options: PollOptions,
): Promise<{ jobs: number; items: number }> {
  const ids = await deps.store.running(options.jobsPerRun);
  let items = 0;
  let jobs = 0;
  for (const id of ids) {
    const release = await deps.store.lock(id, options.lockMs, deps.newId('lock'));
    if (!release) continue;
    jobs += 1;
    try {
      items += await advance(deps, id, options.itemsPerRun - items);
    } catch (err) {
      deps.log.error('bulk job poll failed; retried next run', { job: id, cause: err });
      await deps.store.touch(id).catch(() => undefined);
    } finally {
      await release().catch(() => undefined);
    }
  }
  return { jobs, items };
}

/** Moves one job forward; returns the items it collected. */
async function advance(deps: PollDeps, id: string, budget: number): Promise<number> {
  const found = await deps.store.read(id);
  if (!found) {
    await deps.store.drop(id);
    return 0;
  }
  let record = found.record;
  if (ACTIVE_STATUSES.has(record.status)) record = await refresh(deps, record);
  if (record.status !== 'collecting' || !record.batch) {
    if (ACTIVE_STATUSES.has(record.status)) await deps.store.touch(id);
    else await deps.store.drop(id); // final already: a finish that did not complete its cleanup
    return 0;
  }
  return collect(deps, record, record.batch, budget);
}

/** Retrieves the batch and records its progress, and its end when it has one. */
async function refresh(deps: PollDeps, record: JobRecord): Promise<JobRecord> {
  const batch = await deps.client.batches.retrieve(record.job.batch_id as string);
  const progress = {
    completed: batch.request_counts?.completed ?? 0,
    failed: batch.request_counts?.failed ?? 0,
    usage: {
      inputTokens: batch.usage?.input_tokens ?? 0,
      cachedTokens: batch.usage?.input_tokens_details?.cached_tokens ?? 0,
      outputTokens: batch.usage?.output_tokens ?? 0,
      reasoningTokens: batch.usage?.output_tokens_details?.reasoning_tokens ?? 0,
    },
  };
  if (isFinal(batch.status)) {
    const end: BatchEnd = {
      status: batch.status,
      output_file_id: batch.output_file_id ?? null,
      error_file_id: batch.error_file_id ?? null,
      error: batch.errors?.data?.[0]?.message ?? null,
    };
    await deps.store.update(record.job.id, { status: 'collecting', progress, batch: end });
    return { ...record, status: 'collecting', progress, batch: end };
  }
  // A cancel the client asked for stays visible until OpenAI reports it.
  const status = record.status === 'cancelling' ? 'cancelling' : batch.status;
  await deps.store.update(record.job.id, { status, progress });
  return { ...record, status, progress };
}

async function collect(deps: PollDeps, record: JobRecord, end: BatchEnd, budget: number): Promise<number> {
  const { job } = record;
  let state = record.collect;
  let used = 0;
  if (state.cursor < job.total && budget > 0) {
    if (!state.staged) {
      // Once per job: every later run reads only its own chunks' lines from Redis.
      await stageLines({ lines: deps.lines, download: (id) => download(deps, id) }, job.id, job.total, end);
      state = { ...state, staged: true };
      await deps.store.saveCollected(job.id, [], state);
    }
    const missing = missingError(end);
    const window = { from: state.cursor, to: Math.min(job.total, state.cursor + budget) };
    const cutOff = cutOffRetryFor(deps, record, state, window);
    while (state.cursor < window.to) {
      const from = state.cursor;
      const to = Math.min(window.to, from + CHUNK_ITEMS);
      const { items, lines } = await readChunk(deps, job.id, from, to);
      const chunk = await collectChunk(TASKS[job.task], items, lines, missing, deps.moderate, cutOff?.retry);
      await Promise.all(chunk.writes.flatMap(([key, value]) => (key ? [deps.cache.set(key, value)] : [])));
      state = {
        ...state,
        cursor: to,
        approved: state.approved + chunk.approved,
        rejected: state.rejected + chunk.rejected,
        errored: state.errored + chunk.errored,
        usage: addUsage(state.usage, chunk.usage),
        ...(cutOff?.state() ?? { retried: state.retried, retry_nanos: state.retry_nanos }),
      };
      await deps.store.saveCollected(job.id, chunk.results, state);
      // Counted once saved: a chunk whose save failed is collected again by the next run.
      const price = deps.price(job.model);
      deps.meter?.(TASKS[job.task].metricsTask, {
        calls: lines.size,
        usage: chunk.usage,
        costNanos: price ? batchCost(price, chunk.usage) : 0,
        approved: chunk.approved,
      });
      used += to - from;
    }
  }
  if (state.cursor < job.total) await deps.store.touch(job.id);
  else await finish(deps, { ...record, collect: state }, end.status);
  return used;
}

/** The submitted items of indexes `[from, to)` and their staged lines, in one round trip. */
async function readChunk(deps: PollDeps, id: string, from: number, to: number) {
  // Issued together: one batched request (lib/store-batch.ts).
  const [stored, staged] = await Promise.all([deps.store.items(id, from, to), deps.lines.read(id, from, to)]);
  return {
    items: stored.flatMap((item, i) => (item ? [{ index: from + i, item }] : [])),
    lines: new Map(
      staged.flatMap((line, i): [string, LineOutcome][] => (line ? [[String(from + i), line]] : [])),
    ),
  };
}

/** The retries of cut-off answers this run may make, for the items of `window`; none without a price or reservation. */
function cutOffRetryFor(
  deps: PollDeps,
  record: JobRecord,
  state: JobRecord['collect'],
  window: { from: number; to: number },
) {
  const { job } = record;
  const price = deps.price(job.model);
  if (!price || !job.reservation || !job.input_file_id || !record.progress) return undefined;
  const inputFileId = job.input_file_id;
  return createCutOffRetry({
    respond: (body) => deps.client.responses.create(body),
    price,
    reservedNanos: job.reservation.amount,
    batchUsage: record.progress.usage,
    retried: state.retried,
    retryNanos: state.retry_nanos,
    inputFile: () => download(deps, inputFileId),
    window,
    onCall: (usage, costNanos) =>
      deps.meter?.(TASKS[job.task].metricsTask, { calls: 1, usage, costNanos, approved: 0 }),
  });
}

function isFinal(status: Batch['status']): status is FinalBatchStatus {
  return (FINAL_BATCH_STATUSES as readonly string[]).includes(status);
}
