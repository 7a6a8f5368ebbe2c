/**
 * The bulk poll, run by a cron: for each running job (least recently polled first), retrieve its batch
 * and record its progress; once OpenAI reports a final status, collect the results in chunks, at most
 * `itemsPerRun` items per run across all jobs so one run stays inside Workers' subrequest limits; once
 * every item is collected, settle the cost and mark the job final. Each job is worked on under a lock,
 * so overlapping runs never collect it twice; every step is safe to repeat after a crash.
 */
import type OpenAI from 'openai';
import type { Batch } from 'openai/resources/batches';
import type { Reservation } from '../budget';
import type { Cache } from '../cache';
import type { Logger } from '../log';
import type { Verdict } from '../moderation';
import type { ModelPrice } from '../pricing';
import { addUsage } from '../providers/usage';
import { collectChunk } from './collect';
import { batchCost } from './cost';
import {
  ACTIVE_STATUSES,
  type BatchEnd,
  FINAL_BATCH_STATUSES,
  type FinalBatchStatus,
  type JobRecord,
} from './job';
import type { JobStore } from './jobs';
import { missingError, readLines } from './lines';
import { createCutOffRetry } from './retry';
import { TASKS } from './tasks';

/** Items moderated and written together: a few moderation calls and well under 1 MB of Redis writes. */
const CHUNK_ITEMS = 50;

export interface PollDeps {
  store: JobStore;
  client: OpenAI;
  moderate: (texts: string[]) => Promise<Verdict[]>;
  cache: Pick<Cache, 'set'>;
  settle: (reservation: Reservation, nanos: number) => Promise<void>;
  price: (model: string) => ModelPrice | undefined;
  now: () => number;
  newId: (prefix: string) => string;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
}

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
    // Downloaded again by each run a collection spans: keeping them between runs would need storage
    // the size of the output, and a run only reads the lines of its own chunks.
    const [output, errors] = await Promise.all([
      download(deps, end.output_file_id),
      download(deps, end.error_file_id),
    ]);
    const lines = readLines(output, errors);
    const missing = missingError(end);
    const price = deps.price(job.model);
    const cutOff =
      price && job.reservation && job.input_file_id && record.progress
        ? createCutOffRetry({
            respond: (body) => deps.client.responses.create(body),
            price,
            reservedNanos: job.reservation.amount,
            batchUsage: record.progress.usage,
            retried: state.retried,
            retryNanos: state.retry_nanos,
            inputFile: () => download(deps, job.input_file_id),
          })
        : undefined;
    while (state.cursor < job.total && used < budget) {
      const from = state.cursor;
      const to = Math.min(job.total, from + CHUNK_ITEMS, from + budget - used);
      const stored = await deps.store.items(job.id, from, to);
      const items = stored.flatMap((item, i) => (item ? [{ index: from + i, item }] : []));
      const chunk = await collectChunk(TASKS[job.task], items, lines, missing, deps.moderate, cutOff?.retry);
      await Promise.all(chunk.writes.flatMap(([key, value]) => (key ? [deps.cache.set(key, value)] : [])));
      state = {
        cursor: to,
        approved: state.approved + chunk.approved,
        rejected: state.rejected + chunk.rejected,
        errored: state.errored + chunk.errored,
        usage: addUsage(state.usage, chunk.usage),
        ...(cutOff?.state() ?? { retried: state.retried, retry_nanos: state.retry_nanos }),
      };
      await deps.store.saveCollected(job.id, chunk.results, state);
      used += to - from;
    }
  }
  if (state.cursor < job.total) await deps.store.touch(job.id);
  else await finish(deps, { ...record, collect: state }, end.status);
  return used;
}

/** Settles what every collected line billed (released when nothing), then marks the job final. */
async function finish(deps: PollDeps, record: JobRecord, status: FinalBatchStatus): Promise<void> {
  const { job, collect } = record;
  const price = deps.price(job.model);
  if (!price)
    deps.log.error('bulk job model has no price; settling its reservation', {
      job: job.id,
      model: job.model,
    });
  const nanos = price
    ? batchCost(price, collect.usage) + collect.retry_nanos
    : (job.reservation?.amount ?? 0);
  if (job.reservation) await deps.settle(job.reservation, nanos);
  await deps.store.finish(job.id, status, { nanos, finished_at: new Date(deps.now()).toISOString() });
  deps.log.info('bulk job finished', { job: job.id, status, nanos, approved: collect.approved });
  // The results are kept in Redis; the files at OpenAI are no longer needed.
  const files = [job.input_file_id, record.batch?.output_file_id, record.batch?.error_file_id];
  await Promise.all(
    files.flatMap((id) =>
      id
        ? [
            deps.client.files
              .delete(id)
              .catch((err) => deps.log.warn('bulk file not deleted', { file: id, cause: err })),
          ]
        : [],
    ),
  );
}

async function download(deps: PollDeps, fileId: string | null): Promise<string> {
  return fileId ? (await deps.client.files.content(fileId)).text() : '';
}

function isFinal(status: Batch['status']): status is FinalBatchStatus {
  return (FINAL_BATCH_STATUSES as readonly string[]).includes(status);
}
