import type { BatchError } from './batch-input.ts';
import { addUsage, expiredLine, ZERO_USAGE } from './batch-run.ts';
import { storeFile } from './files.ts';
import type { RouteContext } from './routes.ts';
import type { FinalState, LineAnswer, SimBatch } from './storage.ts';

export type BatchStatus =
  | 'validating'
  | 'failed'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'expired'
  | 'cancelling'
  | 'cancelled';

const DAY_SECONDS = 86_400;

/** What `batch.outcome: 'failed'` reports, worded as OpenAI's enqueued-token limit failure. */
const TOKEN_LIMIT_ERROR: BatchError = {
  code: 'token_limit_exceeded',
  message:
    'Enqueued token limit reached in organization org-sim. Please try again once some in_progress batches have been completed.',
  param: null,
  line: null,
};

/**
 * The Batch object at `ctx.nowMs`. Progress is linear in time: with `durationMs` 0 the batch has ended at
 * the first look after creation, otherwise `request_counts` grow until `durationMs` has passed. A requested
 * cancel ends at the next look with the lines finished when it was asked. The first look at an ended
 * batch writes its output and error files, lines in reverse input order (OpenAI keeps no order either).
 * `as` forces the status the create and cancel calls themselves answer with.
 */
export function batchObject(batch: SimBatch, ctx: RouteContext, as?: 'validating' | 'cancelling') {
  const final = as ? null : settle(batch, ctx);
  const done = final || as === 'validating' ? 0 : doneAt(batch, batch.cancellingMs ?? ctx.nowMs);
  const running = batch.answers.slice(0, done);
  const counts = final?.counts ?? {
    total: as === 'validating' ? 0 : batch.lines.length,
    completed: running.filter((a) => a.ok).length,
    failed: running.filter((a) => !a.ok).length,
  };
  const status: BatchStatus = as ?? final?.status ?? 'in_progress';
  const seconds = (ms: number | null | undefined) =>
    ms === null || ms === undefined ? null : Math.floor(ms / 1000);
  const at = (when: BatchStatus) => (final?.status === when ? seconds(final.atMs) : null);
  const createdAt = seconds(batch.createdMs) as number;
  return {
    id: batch.id,
    object: 'batch',
    endpoint: batch.endpoint,
    model: batch.model,
    errors: final?.errors ? { object: 'list', data: final.errors } : null,
    input_file_id: batch.inputFileId,
    completion_window: batch.completionWindow,
    status,
    output_file_id: final?.outputFileId ?? null,
    error_file_id: final?.errorFileId ?? null,
    created_at: createdAt,
    in_progress_at: status === 'validating' || status === 'failed' ? null : createdAt,
    expires_at: createdAt + DAY_SECONDS,
    finalizing_at: at('completed') ?? at('expired'),
    completed_at: at('completed'),
    failed_at: at('failed'),
    expired_at: at('expired'),
    cancelling_at: seconds(batch.cancellingMs),
    cancelled_at: at('cancelled'),
    request_counts: counts,
    usage: final?.usage ?? running.reduce((sum, a) => addUsage(sum, a.usage), ZERO_USAGE),
    metadata: batch.metadata,
  };
}

/** Whether the batch has ended (settling it if it just did): a cancel then has nothing left to stop. */
export function hasEnded(batch: SimBatch, ctx: RouteContext): boolean {
  return settle(batch, ctx) !== null;
}

/** The final state, written on the first look after the batch ended; null while it runs. */
function settle(batch: SimBatch, ctx: RouteContext): FinalState | null {
  if (batch.final) return batch.final;
  if (batch.errors || batch.outcome === 'failed') {
    return finish(batch, ctx, 'failed', batch.createdMs, 0, batch.errors ?? [TOKEN_LIMIT_ERROR]);
  }
  if (batch.cancellingMs !== null) {
    return finish(batch, ctx, 'cancelled', ctx.nowMs, doneAt(batch, batch.cancellingMs));
  }
  const endsAt = batch.createdMs + batch.durationMs;
  if (ctx.nowMs < endsAt) return null;
  const status = batch.outcome === 'expired' ? 'expired' : 'completed';
  return finish(batch, ctx, status, endsAt, reach(batch));
}

function finish(
  batch: SimBatch,
  ctx: RouteContext,
  status: FinalState['status'],
  atMs: number,
  done: number,
  errors: BatchError[] | null = null,
): FinalState {
  const answered = batch.answers.slice(0, done);
  billLines(batch, ctx, answered, atMs);
  const unrun = status === 'expired' ? batch.lines.slice(done).map((line) => expiredLine(line, ctx)) : [];
  const outputLines = answered.filter((a) => a.ok).map((a) => a.line);
  const errorLines = [...answered.filter((a) => !a.ok).map((a) => a.line), ...unrun];
  const write = (lines: unknown[], kind: string) =>
    lines.length
      ? storeFile(ctx, {
          filename: `${batch.id}_${kind}.jsonl`,
          purpose: 'batch_output',
          data: Buffer.from(
            `${lines
              .reverse()
              .map((l) => JSON.stringify(l))
              .join('\n')}\n`,
          ),
        }).id
      : null;
  batch.final = {
    status,
    atMs,
    outputFileId: write(outputLines, 'output'),
    errorFileId: write(errorLines, 'error'),
    errors,
    counts: {
      total: status === 'failed' ? 0 : batch.lines.length,
      completed: outputLines.length,
      failed: errorLines.length,
    },
    usage: answered.reduce((sum, a) => addUsage(sum, a.usage), ZERO_USAGE),
  };
  return batch.final;
}

/** Bills the lines a batch finished (at the Batch discount) to its creator's invoice, when it ends. */
function billLines(batch: SimBatch, ctx: RouteContext, answered: LineAnswer[], atMs: number): void {
  for (const answer of answered) {
    if (!answer.billed) continue;
    ctx.invoice.add({
      apiKey: batch.apiKey,
      endpoint: batch.endpoint,
      requestId: null,
      abandoned: false,
      fault: null,
      usage: answer.billed,
      batch: { id: batch.id, customId: answer.customId },
      atMs,
    });
  }
}

/** Lines a batch gets through before it ends: all of them, or half when it is set to expire. */
function reach(batch: SimBatch): number {
  return batch.outcome === 'expired' ? Math.floor(batch.lines.length / 2) : batch.lines.length;
}

/** Lines finished at `ms`, growing linearly over `durationMs`. */
function doneAt(batch: SimBatch, ms: number): number {
  const total = reach(batch);
  if (batch.durationMs <= 0) return total;
  return Math.min(total, Math.floor((total * Math.max(0, ms - batch.createdMs)) / batch.durationMs));
}
