/**
 * Submits a bulk job: validate and screen the items, reserve the worst case at the batch price, upload
 * one JSONL line per item, create the batch, and record the job. Nothing reaches OpenAI before the
 * reservation holds; if the upload or the batch fails, the reservation is released; if the job cannot be
 * recorded, the batch is cancelled, so no batch runs that no job will collect.
 */
import type { Reservation } from '../budget';
import { configOf } from '../config';
import { priceOf } from '../domain/cost';
import { StoreUnavailableError } from '../errors';
import { modelsFor } from '../model-policy';
import type { StructuredTask } from '../providers';
import { classifyFailure } from '../providers/failures';
import { ZERO_USAGE } from '../providers/usage';
import { bulkWorstCase } from './cost';
import { screenItems, validateItems } from './items';
import type { JobRecord } from './job';
import type { NewJob } from './jobs';
import { BULK_ENDPOINT, inputLines } from './jsonl';
import { prepareItems } from './prepare';
import type { SubmitDeps, SubmitRequest } from './submit-deps';
import { TASKS } from './tasks';
import { uploadInputFile } from './upload';

/** @throws InvalidRequestError, BudgetExceededError, the upstream error, or StoreUnavailableError. */
export async function submitJob(deps: SubmitDeps, request: SubmitRequest): Promise<JobRecord> {
  const { prices, moderation } = configOf(deps.env);
  const task = TASKS[request.task];
  const { accepted, refused } = screenItems(task, validateItems(task, request.items), moderation);
  // Bulk never degrades to a cheaper model.
  const { model, reasoningEffort } = modelsFor(deps.env, 'bulk');
  const job = newJob(deps, request, model, accepted.length, refused);
  if (!accepted.length) {
    // Every item refused: nothing to run or pay for, and the job is complete as it stands.
    job.status = 'completed';
    job.collect.cursor = job.info.total;
    job.settled = { nanos: 0, finished_at: job.info.created_at };
    await deps.store.create(job);
    return recordOf(job);
  }
  const entries = await prepareItems(deps, task, { model, reasoningEffort }, accepted);
  for (const { index, item } of entries) job.items.set(index, item);
  const tasks = entries.map((e) => e.task);
  const retrySlots = retrySlotsFor(tasks.length, deps.env.BULK_RETRY_PERCENT);
  const reservation = await deps.reserve(
    await bulkWorstCase(priceOf(prices, model), model, tasks, retrySlots),
    tasks.length,
  );
  const lines = entries.map(({ index, task: line }): [number, StructuredTask<unknown>] => [index, line]);
  const batch = await startBatch(
    deps,
    { id: job.info.id, model, metadata: request.metadata },
    lines,
    reservation,
  );
  Object.assign(job.info, { reservation, batch_id: batch.id, input_file_id: batch.input_file_id });
  job.status = batch.status === 'in_progress' ? 'in_progress' : 'validating';
  try {
    await deps.store.create(job);
  } catch (err) {
    deps.log.error('bulk job not recorded; cancelling its batch', {
      job: job.info.id,
      batch: batch.id,
      cause: err,
    });
    deps.defer(Promise.allSettled([deps.client.batches.cancel(batch.id), deps.release(reservation)]));
    throw new StoreUnavailableError({
      message: 'The job could not be recorded and was cancelled; retry shortly.',
      cause: err,
    });
  }
  return recordOf(job);
}

function newJob(
  deps: SubmitDeps,
  request: SubmitRequest,
  model: string,
  submitted: number,
  refused: NewJob['results'],
): NewJob {
  return {
    info: {
      id: deps.newId('bjob'),
      owner: deps.owner,
      task: request.task,
      model,
      batch_id: null,
      input_file_id: null,
      total: request.items.length,
      submitted,
      reservation: null,
      metadata: request.metadata,
      created_at: new Date(deps.now()).toISOString(),
    },
    status: 'validating',
    items: new Map(),
    results: refused,
    collect: {
      cursor: 0,
      approved: 0,
      rejected: refused.length,
      errored: 0,
      usage: ZERO_USAGE,
      retried: 0,
      retry_nanos: 0,
      staged: false,
    },
  };
}

/** Uploads the input file and creates the batch; on failure releases the reservation and cleans up. */
async function startBatch(
  deps: SubmitDeps,
  job: { id: string; model: string; metadata: Record<string, string> },
  lines: [number, StructuredTask<unknown>][],
  reservation: Reservation,
) {
  let fileId: string | undefined;
  try {
    fileId = (await uploadInputFile(deps.client, `${job.id}.jsonl`, () => inputLines(job.model, lines))).id;
    return await deps.client.batches.create({
      input_file_id: fileId,
      endpoint: BULK_ENDPOINT,
      completion_window: '24h',
      metadata: { ...job.metadata, gateway_job: job.id },
    });
  } catch (err) {
    deps.defer(deps.release(reservation).catch(() => undefined));
    const uploaded = fileId;
    if (uploaded) deps.defer(deps.client.files.delete(uploaded).catch(() => undefined));
    throw classifyFailure(err, 'openai').error;
  }
}

function recordOf(job: NewJob): JobRecord {
  return {
    job: job.info,
    status: job.status,
    collect: job.collect,
    ...(job.settled ? { settled: job.settled } : {}),
  };
}

/** How many cut-off answers of `items` get a retry: `percent` of them, at least one (none at 0 %). */
export function retrySlotsFor(items: number, percent: number): number {
  return percent > 0 ? Math.max(1, Math.ceil((items * percent) / 100)) : 0;
}
