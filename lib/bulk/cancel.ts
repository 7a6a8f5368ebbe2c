/**
 * Cancelling a bulk job: the batch is cancelled at OpenAI and the job shows `cancelling`; the poll
 * collects the lines finished by then once OpenAI reports `cancelled`, and settles what they cost.
 */

import type OpenAI from 'openai';
import { APIError } from 'openai';
import { ConflictError } from '../errors';
import { classifyFailure } from '../providers/failures';
import { ACTIVE_STATUSES, type JobRecord } from './job';
import type { JobStore } from './jobs';

/**
 * The job after the cancel request; cancelling again while it is cancelling changes nothing.
 * @throws ConflictError (409) when the job has finished or is being collected: nothing is left to stop.
 */
export async function cancelJob(
  deps: { store: Pick<JobStore, 'update'>; client: OpenAI },
  record: JobRecord,
): Promise<JobRecord> {
  const { job, status } = record;
  if (status === 'cancelling') return record;
  if (!ACTIVE_STATUSES.has(status) || !job.batch_id) {
    throw new ConflictError({ message: `Job ${job.id} is ${status}; there is nothing left to cancel.` });
  }
  try {
    await deps.client.batches.cancel(job.batch_id);
  } catch (err) {
    // OpenAI refuses to cancel a batch that has just ended; the next poll collects its results.
    if (err instanceof APIError && (err.status === 400 || err.status === 409)) {
      throw new ConflictError({
        message: `Job ${job.id} has already finished running; its results are being collected.`,
        cause: err,
      });
    }
    throw classifyFailure(err, 'openai').error;
  }
  await deps.store.update(job.id, { status: 'cancelling' });
  return { ...record, status: 'cancelling' };
}
