/**
 * What the simulator keeps: files and batches as plain records. The routes and the batch logic
 * (batch-state.ts, batch-run.ts) read and write them; this module imports neither, so the route
 * context can carry the storage without a cycle.
 */
import type { BatchError, BatchLine } from './batch-input.ts';
import type { Usage } from './meter.ts';

/** A stored file, as `POST /v1/files` received it or as a finished batch wrote it. */
export interface SimFile {
  id: string;
  filename: string;
  /** 'batch' for uploads; 'batch_output' for a batch's output and error files. */
  purpose: string;
  data: Buffer;
  /** Unix seconds. */
  createdAt: number;
}

/** How a batch ends when nobody cancels it (config `batch.outcome`). */
export type BatchOutcome = 'completed' | 'failed' | 'expired';

/** A batch as the simulator keeps it. Its lines are answered at creation; time only reveals the answers. */
export interface SimBatch {
  id: string;
  /** The key that created it: its lines are billed to that key's invoice. */
  apiKey: string;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  metadata: Record<string, string> | null;
  model: string | null;
  createdMs: number;
  /** From the creator's config: how long the batch runs, and how it ends. */
  durationMs: number;
  outcome: BatchOutcome;
  lines: BatchLine[];
  /** One per line, in input order; empty when validation failed. */
  answers: LineAnswer[];
  /** Validation errors; a batch with any fails. */
  errors: BatchError[] | null;
  cancellingMs: number | null;
  /** Set once, by the first look at the batch after it ended. */
  final: FinalState | null;
}

/** How a batch ended: written once, on the first look after it did (batch-state.ts). */
export interface FinalState {
  status: 'failed' | 'completed' | 'expired' | 'cancelled';
  atMs: number;
  outputFileId: string | null;
  errorFileId: string | null;
  errors: BatchError[] | null;
  counts: { total: number; completed: number; failed: number };
  usage: BatchUsage;
}

/**
 * Token usage in the Batch object's shape (BatchUsage in the SDK), with the lines' `cache_write_tokens`
 * summed as well: the models that bill cache writes report them per line, and the summary must bill the
 * same as its lines.
 */
export interface BatchUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** One executed line: the JSONL line for the output (ok) or error file, and what it used. */
export interface LineAnswer {
  ok: boolean;
  customId: string;
  line: Record<string, unknown>;
  usage: BatchUsage;
  /** What the invoice bills for it (at the Batch discount) once the batch ends; absent when it failed. */
  billed?: Usage;
}

/**
 * Files and batches, in memory for the simulator's lifetime. They are shared by every API key, as an
 * OpenAI project's are, so a poller with another key still finds a batch; `/_sim/reset` leaves them alone.
 */
export interface SimStorage {
  files: Map<string, SimFile>;
  batches: Map<string, SimBatch>;
}

export function createSimStorage(): SimStorage {
  return { files: new Map(), batches: new Map() };
}

/** The FileObject OpenAI returns for `file`. */
export function fileObject(file: SimFile) {
  return {
    id: file.id,
    object: 'file',
    bytes: file.data.length,
    created_at: file.createdAt,
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed',
    expires_at: null,
    status_details: null,
  };
}
