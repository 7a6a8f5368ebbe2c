import type { Breaker, BreakerPermit } from '../breaker';
import type { Capability } from '../capabilities';
import type { Logger } from '../log';
import type { ProviderTarget } from './targets';
import type { Usage } from './usage';

/** What lib/providers/router.ts runs a call with, and the hooks it reports through (billing, metrics). */
export interface RouterDeps {
  providers: ProviderTarget[];
  breaker: Breaker;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Work that must not delay the caller (recording a success); `ctx.waitUntil` in a Worker. */
  defer: (work: Promise<unknown>) => void;
  log: Logger;
  /**
   * The gateway-wide upstream guard: resolves to how long to wait when `target` may not be called
   * now (the provider account's own limits), or undefined when it may.
   */
  admit?: (target: ProviderTarget) => Promise<number | undefined>;
  /** Told about every logical call once it ends, served or not (metrics). */
  observe?: (call: ObservedCall) => void;
  /** Milliseconds since the epoch, for call durations. @default Date.now */
  now?: () => number;
  /** Log prompts and raw answers (LOG_PROMPTS); never on by default. */
  logPrompts?: boolean;
  /** The gateway's request id, sent upstream with every call (see `tagged`). */
  requestId?: string;
  /**
   * How attempts the provider may have billed without answering are paid for (the reservation the call
   * runs under). Unset: such a call is never made again, and its whole reservation is charged.
   */
  billing?: AttemptBilling;
  /** The first attempt's permit and guard, asked for ahead of the call (lib/providers/first-attempt.ts). */
  early?: EarlyPermit;
}

/** A first attempt's breaker permit, and how long the upstream guard says to wait (none: go). */
export type FirstPermit = [BreakerPermit, number | undefined];

/** A first attempt's permit and guard, asked for early; the router takes it once, for that breaker. */
export interface EarlyPermit {
  /** The permit asked for `breakerName`, the first time it is asked for; undefined otherwise. */
  take(breakerName: string): Promise<FirstPermit> | undefined;
  /** Gives back a probe's lease nobody took (the reservation was refused, or a cheaper model served). */
  discard(): void;
}

/** Paying for attempts the provider may have billed without answering (a timeout, a broken connection). */
export interface AttemptBilling {
  /** Reserves room for one more attempt of a `capability` call; false when it does not fit. */
  retry(capability: Capability): Promise<boolean>;
  /** The call ends on such an attempt: it is charged its worst case. */
  abandoned(capability: Capability): void;
  /** The same for one call of a structured task, whose calls differ in worst case. */
  forCall?(call: StructuredCall): AttemptBilling;
}

/** A structured task's first call, or the one more (a repair, a larger cap) an unusable answer gets. */
export type StructuredCall = 'first' | 'second';

/** A logical call as metrics see it: who served (or last failed) it, how long, and at what cost. */
export interface ObservedCall {
  capability: Capability;
  provider: string;
  model: string;
  durationMs: number;
  /** The error code when no provider served it. */
  errorCode?: string;
  retries: number;
  fallback: boolean;
  /** A structured output's repair call. */
  repair: boolean;
  usage?: Usage;
  /** The structured task's name (`creative`, `opportunities`, …), for per-task token metrics. */
  task?: string;
}
