/**
 * A bulk job's record: who owns it, where its batch is, how far it got, and what it cost. Stored as a
 * Redis hash whose fields are grouped by who writes them (submission, the poll, the collector, the
 * settle), so that writers never overwrite each other's fields. Parsed with zod on every read.
 */
import { z } from 'zod';
import { BULK_TASKS } from './tasks';

/** Statuses of OpenAI's Batch object, then the gateway's own `collecting` (results being checked). */
export const JOB_STATUSES = [
  'validating',
  'in_progress',
  'finalizing',
  'cancelling',
  'collecting',
  'completed',
  'failed',
  'expired',
  'cancelled',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Waiting on OpenAI: the poll retrieves the batch. */
export const ACTIVE_STATUSES: ReadonlySet<JobStatus> = new Set([
  'validating',
  'in_progress',
  'finalizing',
  'cancelling',
]);
/** Batch statuses after which OpenAI changes nothing more; the job then collects. */
export const FINAL_BATCH_STATUSES = ['completed', 'failed', 'expired', 'cancelled'] as const;
export type FinalBatchStatus = (typeof FINAL_BATCH_STATUSES)[number];

const Count = z.number().int().min(0);
const Usage = z.object({
  inputTokens: Count,
  cachedTokens: Count,
  cacheWriteTokens: Count.optional(),
  outputTokens: Count,
  reasoningTokens: Count.optional(),
});
/** Upstash hands back a numeric-looking string as a number; ids and times must stay strings. */
const Text = z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string());

const Reservation = z.object({
  id: Text,
  day: Text,
  amount: Count,
  scopes: z.array(Text),
});

/** Written once, at submission. */
export const JobInfo = z.object({
  id: Text,
  /** The client key id that submitted it: the only one that may read or cancel it. */
  owner: Text,
  task: z.enum(BULK_TASKS),
  model: Text,
  /** Null when every item was refused at submission and nothing was sent. */
  batch_id: Text.nullable(),
  input_file_id: Text.nullable(),
  total: Count,
  submitted: Count,
  reservation: Reservation.nullable(),
  metadata: z.record(z.string(), z.string()),
  created_at: Text,
});
export type JobInfo = z.infer<typeof JobInfo>;

/** Written by the poll from each retrieved Batch object. */
const Progress = z.object({ completed: Count, failed: Count, usage: Usage });
export type Progress = z.infer<typeof Progress>;

/** Written by the poll once OpenAI reports a final status. */
const BatchEnd = z.object({
  status: z.enum(FINAL_BATCH_STATUSES),
  output_file_id: Text.nullable(),
  error_file_id: Text.nullable(),
  /** The first of `errors.data` of a failed batch. */
  error: Text.nullable(),
});
export type BatchEnd = z.infer<typeof BatchEnd>;

/** Written by the collector with each chunk of results; `cursor` is the next index to collect. */
const Collect = z.object({
  cursor: Count,
  approved: Count,
  rejected: Count,
  errored: Count,
  /** Tokens of every line collected (billed, whether or not its output was usable). */
  usage: Usage,
  /** Answers cut off at their cap that were asked again, and what those calls cost (standard price). */
  retried: Count.default(0),
  retry_nanos: Count.default(0),
  /** The batch's files were read into the job's staged lines (lib/bulk/stage.ts). */
  staged: z.boolean().default(false),
});
export type CollectState = z.infer<typeof Collect>;

/** Written once the job is final. */
const Settled = z.object({ nanos: Count, finished_at: Text });
export type Settled = z.infer<typeof Settled>;

export const JobRecord = z.object({
  job: JobInfo,
  status: z.enum(JOB_STATUSES),
  progress: Progress.optional(),
  batch: BatchEnd.optional(),
  collect: Collect,
  settled: Settled.optional(),
});
export type JobRecord = z.infer<typeof JobRecord>;

/** An item's outcome as the job stores and returns it: `{index, ok: true, …result}` or `{index, ok: false, error}`. */
export type ItemResult = { index: number; ok: boolean } & Record<string, unknown>;

/**
 * What the collector needs of a submitted item: its cache key ('' when its result is not to be cached)
 * and the client text to moderate.
 */
export const StoredItem = z.object({ key: z.string(), text: z.string() });
export type StoredItem = z.infer<typeof StoredItem>;
