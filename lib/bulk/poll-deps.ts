import type OpenAI from 'openai';
import type { Reservation } from '../budget';
import type { Cache } from '../cache';
import type { Logger } from '../log';
import type { Verdict } from '../moderation';
import type { ModelPrice } from '../pricing';
import type { Usage } from '../providers/usage';
import type { JobStore } from './jobs';
import type { StagedLines } from './staged-lines';

/** What the bulk poll and the steps it runs (collect, finish) work with. */
export interface PollDeps {
  store: JobStore;
  lines: StagedLines;
  client: OpenAI;
  moderate: (texts: string[]) => Promise<Verdict[]>;
  cache: Pick<Cache, 'set'>;
  settle: (reservation: Reservation, nanos: number) => Promise<void>;
  price: (model: string) => ModelPrice | undefined;
  now: () => number;
  newId: (prefix: string) => string;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Counts calls of a structured task in the per-task token metrics (lib/metrics/tasks.ts). */
  meter?: (task: string, counted: MeteredCalls) => void;
}

/** Calls of one task as metered: collected batch lines, or a cut-off answer's retry. */
export interface MeteredCalls {
  calls: number;
  usage: Usage;
  costNanos: number;
  /** Results approved and returned in the job. */
  approved: number;
}
