import type OpenAI from 'openai';
import type { Nanos, Reservation } from '../budget';
import type { CacheKeyParts } from '../cache';
import type { Env } from '../env';
import type { Logger } from '../log';
import type { Variant, VariantTask } from '../variants';
import type { JobStore } from './jobs';
import type { BulkTaskName } from './tasks';

/** What submitting a bulk job (lib/bulk/submit.ts) runs with, and what it is asked. */

export interface SubmitDeps {
  env: Env;
  store: Pick<JobStore, 'create'>;
  /** The primary provider's SDK client: batches belong to the OpenAI account. */
  client: OpenAI;
  /** Holds `amount` for the job and takes its `units` of work (one per item) from the key's limit. */
  reserve(amount: Nanos, units: number): Promise<Reservation>;
  release(reservation: Reservation): Promise<unknown>;
  /** The caller's cache key for a task's key parts (its tenant namespace). */
  cacheKey(parts: Omit<CacheKeyParts, 'namespace'>): Promise<string>;
  /** The prompt variant a single request with these cache fields would get. */
  variant(task: VariantTask, unit: unknown): Variant | undefined;
  owner: string;
  newId(prefix: string): string;
  now(): number;
  defer(work: Promise<unknown>): void;
  log: Pick<Logger, 'warn' | 'error'>;
}

export interface SubmitRequest {
  task: BulkTaskName;
  items: unknown[];
  metadata: Record<string, string>;
}
