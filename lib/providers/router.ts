import type { Breaker, BreakerPermit, BreakerState } from '../breaker';
import type { Capability } from '../capabilities';
import { CircuitOpenError, type GatewayError, markMayBeBilled, RateLimitError } from '../errors';
import type { Logger } from '../log';
import { classifyFailure, type Failure, UpstreamRequestError } from './failures';
import { type RetryPolicy, retryDelayMs } from './retry';
import { type ProviderTarget, tagged, targetFor } from './targets';
import { probeLeaseMs } from './timeouts';
import type { Usage } from './usage';

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
}

export interface CallOptions<T> {
  /** The primary's model for this call (the task's model policy); backups keep their own. */
  primaryModel?: string;
  /** The usage a served value reports, for metrics. */
  usageOf?: (value: T) => Usage | undefined;
  /** This call repairs an invalid structured output. */
  repair?: boolean;
}

/** What served a call, and what it took. */
export interface Served<T> {
  value: T;
  provider: string;
  model: string;
  /** Upstream attempts made, across providers. */
  attempts: number;
  /** Attempts after the first at the same provider. */
  retries: number;
  /** A backup served because the primary was open or failed. */
  fallback: boolean;
}

export type ProviderCall<T> = (target: ProviderTarget, model: string) => Promise<T>;

/**
 * Runs one logical call: the providers offering `capability` in order, each behind its shared
 * breaker, with retries and backoff for failures that can succeed. A backup is tried when the
 * primary's breaker is open or its retries are spent on provider faults; a request error (400/404/422)
 * is final wherever it happens. An attempt the provider may have billed (a timeout, a broken
 * connection, an unreadable answer) is tried again only once `deps.billing` has reserved for it. When no provider can serve, the client gets a 503 with Retry-After.
 */
export async function callProviders<T>(
  deps: RouterDeps,
  capability: Capability,
  policy: RetryPolicy,
  call: ProviderCall<T>,
  options: CallOptions<T> = {},
): Promise<Served<T>> {
  if (!deps.observe) return route(deps, capability, policy, call, options.primaryModel);
  const now = deps.now ?? Date.now;
  const started = now();
  const observed = (fields: Pick<ObservedCall, 'provider' | 'model' | 'retries' | 'fallback'>) => ({
    capability,
    repair: options.repair ?? false,
    durationMs: Math.max(0, now() - started),
    ...fields,
  });
  try {
    const served = await route(deps, capability, policy, call, options.primaryModel);
    const usage = options.usageOf?.(served.value);
    deps.observe(observed({ ...served, ...(usage ? { usage } : {}) }));
    return served;
  } catch (err) {
    const primary = deps.providers[0];
    const model = options.primaryModel ?? (primary?.models[capability] as string | undefined) ?? '-';
    const errorCode = (err as Partial<GatewayError>).code ?? 'internal_error';
    deps.observe({
      ...observed({ provider: primary?.name ?? '-', model, retries: 0, fallback: false }),
      errorCode,
    });
    throw err;
  }
}

async function route<T>(
  deps: RouterDeps,
  capability: Capability,
  policy: RetryPolicy,
  call: ProviderCall<T>,
  primaryModel: string | undefined,
): Promise<Served<T>> {
  const primary = deps.providers[0];
  const candidates = deps.providers.filter((p) => p.models[capability]);
  const refusals: Refusal[] = [];
  const failures: { provider: string; failure: Failure }[] = [];
  let attempts = 0;
  let retries = 0;
  /** The last attempt may have been billed, with no reservation made after it. */
  let lastMayBeBilled = false;

  for (const [index, configured] of candidates.entries()) {
    const model = (configured === primary && primaryModel) || (configured.models[capability] as string);
    const breakerName = `${configured.name}:${model}`;
    // Calls of this capability get its own per-attempt timeout, and a probe holds the breaker that long.
    const scoped = targetFor(configured, capability);
    const { timeoutMs } = scoped;
    const target = tagged(scoped.target, deps.requestId);
    const lease = timeoutMs === undefined ? {} : { probeLeaseMs: probeLeaseMs(timeoutMs) };
    // The breaker and the first attempt's upstream guard, issued together: one Redis round trip.
    const [permit, firstWait] = await Promise.all([
      deps.breaker.acquire(breakerName, lease),
      deps.admit?.(target),
    ]);
    if (!permit.allowed) {
      const reason = permit.throttled ? 'throttled' : 'circuit';
      refusals.push({ provider: target.name, retryAfterSeconds: permit.retryAfterSeconds, reason });
      continue;
    }
    for (let retry = 0; ; retry++) {
      const wait = retry === 0 ? firstWait : await deps.admit?.(target);
      if (wait !== undefined) {
        // Our own account-wide limit: no call was made, so no verdict on the provider either way (a
        // probe gives its lease up; it must not close the breaker).
        deps.defer(deps.breaker.record(breakerName, permit, 'release'));
        refusals.push({
          provider: target.name,
          retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)),
          reason: 'capacity',
        });
        break;
      }
      attempts += 1;
      try {
        const value = await call(target, model);
        deps.defer(deps.breaker.record(breakerName, permit, 'success'));
        return { value, provider: target.name, model, attempts, retries, fallback: index > 0 };
      } catch (err) {
        const failure = classifyFailure(err, target.name);
        if (!failure.providerFault) {
          // The request (or our handling of it) is at fault, not the provider's health: an answer it
          // gave (a 400) shows it up; a call that ended without one (aborted) shows nothing.
          const answered = failure.error instanceof UpstreamRequestError;
          deps.defer(deps.breaker.record(breakerName, permit, answered ? 'success' : 'release'));
          throw failure.error;
        }
        const state = failure.throttled
          ? await throttled(deps, breakerName, permit, failure.sharedWaitMs, policy.maxDelayMs)
          : await deps.breaker.record(breakerName, permit, 'failure');
        deps.log.warn('provider call failed', {
          provider: target.name,
          model,
          attempt: retry + 1,
          code: failure.error.code,
          breaker: state,
        });
        // A wait the provider named that is longer than the policy allows is not shortened: the client
        // gets it as Retry-After instead of a retry sent before the provider's reset.
        const canRetry =
          failure.retryable &&
          !permit.probe &&
          state !== 'open' &&
          retry < policy.maxRetries &&
          (failure.retryAfterMs ?? 0) <= policy.maxDelayMs;
        if (failure.mayBeBilled && capability !== 'moderation') {
          // The provider may bill this attempt (moderation is free): another one, here or at a backup,
          // is a second bill, made only once a reservation of its own fits the budget.
          const another = canRetry || index < candidates.length - 1;
          if (!another || !(await deps.billing?.retry(capability))) {
            deps.billing?.abandoned(capability);
            if (another) throw markMayBeBilled(failure.error);
            lastMayBeBilled = true;
          }
        }
        if (!canRetry) {
          failures.push({ provider: target.name, failure });
          break;
        }
        retries += 1;
        await deps.sleep(retryDelayMs(retry, policy, failure.retryAfterMs, deps.random));
      }
    }
  }
  const error = unavailable(candidates.length, refusals, failures);
  throw lastMayBeBilled ? markMayBeBilled(error) : error;
}

/**
 * A provider not called: its breaker is open, the provider rate-limited this account (`throttled`, shared
 * through the breaker), or the gateway is at its own upstream rate limit (`capacity`).
 */
interface Refusal {
  provider: string;
  retryAfterSeconds: number;
  reason: 'circuit' | 'throttled' | 'capacity';
}

/**
 * A 429 rate_limit_exceeded is no breaker failure: a probe gives its lease back, and when the account is
 * spent for everyone every isolate's callers wait it out (one round trip, not on the success path), for
 * at most `maxMs`: a longer wait is then found again by the next caller, not imposed on all for hours.
 */
async function throttled(
  deps: RouterDeps,
  breakerName: string,
  permit: BreakerPermit & { allowed: true },
  sharedWaitMs: number | undefined,
  maxMs: number,
): Promise<BreakerState> {
  if (!sharedWaitMs) return deps.breaker.record(breakerName, permit, 'release');
  return deps.breaker.record(breakerName, permit, 'throttle', Math.min(sharedWaitMs, maxMs));
}

const REFUSED: Record<Refusal['reason'], string> = {
  circuit: 'circuit open',
  throttled: 'rate limited by the provider',
  capacity: 'at the gateway rate limit',
};

/** The error for a call no provider could serve. */
function unavailable(
  candidates: number,
  refusals: Refusal[],
  failures: { provider: string; failure: Failure }[],
): GatewayError {
  const only = failures[0];
  const refused = refusals[0];
  if (candidates === 1 && refused && refused.reason !== 'circuit') {
    const message =
      refused.reason === 'capacity'
        ? `The gateway is at its upstream rate limit; retry in ${refused.retryAfterSeconds} s.`
        : `${refused.provider} is rate limiting the gateway; retry in ${refused.retryAfterSeconds} s.`;
    return new RateLimitError({
      message,
      code: refused.reason === 'capacity' ? 'upstream_capacity' : 'upstream_rate_limited',
      retryAfter: refused.retryAfterSeconds,
    });
  }
  // A lone provider that failed keeps its own error (502, 504, 429 …); several, or open breakers, make a 503.
  if (candidates === 1 && only && !refusals.length) return only.failure.error;
  const waits = [
    ...refusals.map((r) => r.retryAfterSeconds),
    ...failures.map((f) => Math.ceil((f.failure.retryAfterMs ?? 0) / 1000)).filter((s) => s > 0),
  ];
  const retryAfter = waits.length ? Math.max(1, Math.min(...waits)) : 1;
  const detail = [
    ...refusals.map((r) => `${r.provider}: ${REFUSED[r.reason]}`),
    ...failures.map((f) => `${f.provider}: ${f.failure.error.code}`),
  ].join('; ');
  return new CircuitOpenError({
    message: candidates
      ? `No provider can serve this request right now (${detail}). Retry after ${retryAfter} s.`
      : 'No configured provider offers this capability.',
    retryAfter,
  });
}
