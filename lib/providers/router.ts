import { type BreakerPermit, type BreakerState, recordsNothing } from '../breaker';
import type { Capability } from '../capabilities';
import { type GatewayError, markMayBeBilled } from '../errors';
import { classifyFailure, type Failure, UpstreamRequestError } from './failures';
import { attemptOf } from './first-attempt';
import { type RetryPolicy, retryDelayMs } from './retry';
import type { ObservedCall, RouterDeps } from './router-deps';
import type { ProviderTarget } from './targets';
import { type Refusal, unavailable } from './unavailable';
import type { Usage } from './usage';

export interface CallOptions<T> {
  /** The primary's model for this call (the task's model policy); backups keep their own. */
  primaryModel?: string;
  /** The usage a served value reports, for metrics. */
  usageOf?: (value: T) => Usage | undefined;
  /** This call repairs an invalid structured output. */
  repair?: boolean;
  /** The structured task this call is for, as metrics label it. */
  task?: string;
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
    ...(options.task ? { task: options.task } : {}),
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
  const candidates = deps.providers.filter((p) => p.models[capability]);
  const refusals: Refusal[] = [];
  const failures: { provider: string; failure: Failure }[] = [];
  let attempts = 0;
  let retries = 0;
  /** The last attempt may have been billed, with no reservation made after it. */
  let lastMayBeBilled = false;

  for (const [index, configured] of candidates.entries()) {
    const { model, breakerName, target, lease } = attemptOf(deps, configured, capability, primaryModel);
    // The breaker and the first attempt's upstream guard, issued together: one Redis round trip, or
    // none of its own when they were asked for early, alongside the reservation (first-attempt.ts).
    const [permit, firstWait] = await (deps.early?.take(breakerName) ??
      Promise.all([deps.breaker.acquire(breakerName, lease), deps.admit?.(target)]));
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
        recordLater(deps, breakerName, permit, 'release');
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
        recordLater(deps, breakerName, permit, 'success');
        return { value, provider: target.name, model, attempts, retries, fallback: index > 0 };
      } catch (err) {
        const failure = classifyFailure(err, target.name);
        if (!failure.providerFault) {
          // The request (or our handling of it) is at fault, not the provider's health: an answer it
          // gave (a 400) shows it up; a call that ended without one (aborted) shows nothing.
          const answered = failure.error instanceof UpstreamRequestError;
          recordLater(deps, breakerName, permit, answered ? 'success' : 'release');
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

/**
 * Records an outcome after the response (`waitUntil`); one that would change nothing (a success on a
 * healthy breaker, most calls) is not handed over at all: no native call and promise per request.
 */
function recordLater(
  deps: RouterDeps,
  breakerName: string,
  permit: BreakerPermit & { allowed: true },
  outcome: 'success' | 'release',
): void {
  if (!recordsNothing(permit, outcome)) deps.defer(deps.breaker.record(breakerName, permit, outcome));
}
