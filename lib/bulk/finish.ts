/**
 * The end of a bulk job: what every collected line billed (and the retries of cut-off answers) settled
 * against its reservation, the job marked final, its staged lines and its files at OpenAI deleted.
 */
import { batchCost } from './cost';
import type { FinalBatchStatus, JobRecord } from './job';
import type { PollDeps } from './poll-deps';

/** Settles what every collected line billed (released when nothing), then marks the job final. */
export async function finish(
  deps: Pick<PollDeps, 'store' | 'lines' | 'client' | 'settle' | 'price' | 'now' | 'log'>,
  record: JobRecord,
  status: FinalBatchStatus,
): Promise<void> {
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
  await deps.lines.clear(job.id).catch(() => undefined); // they expire anyway
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

/** A file's content as it downloads. */
export async function download(
  deps: Pick<PollDeps, 'client'>,
  fileId: string,
): Promise<ReadableStream<Uint8Array>> {
  const res = await deps.client.files.content(fileId);
  return res.body ?? new ReadableStream({ start: (controller) => controller.close() });
}
