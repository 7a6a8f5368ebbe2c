/**
 * A call's first attempt, asked for ahead of the call: its breaker permit and its upstream guard go out
 * in the same tick as the work before the call (say the budget reservation), so the store's batching
 * (lib/store-batch.ts) carries them in that work's round trip instead of one of their own.
 */
import type { Capability } from '../capabilities';
import type { EarlyPermit, FirstPermit, RouterDeps } from './router-deps';
import { attemptTarget, type ProviderTarget } from './targets';
import { probeLeaseMs } from './timeouts';

/** One provider's attempt at a `capability` call: its model, breaker, target and probe lease. */
export interface Attempt {
  model: string;
  breakerName: string;
  target: ProviderTarget;
  lease: { probeLeaseMs?: number };
}

/** The attempt `configured` makes: the primary with `primaryModel` when given, a backup with its own. */
export function attemptOf(
  deps: Pick<RouterDeps, 'providers' | 'requestId'>,
  configured: ProviderTarget,
  capability: Capability,
  primaryModel: string | undefined,
): Attempt {
  const primary = deps.providers[0];
  const model = (configured === primary && primaryModel) || (configured.models[capability] as string);
  // Calls of this capability get its own per-attempt timeout, and a probe holds the breaker that long.
  const scoped = attemptTarget(configured, capability, deps.requestId);
  const lease = scoped.timeoutMs === undefined ? {} : { probeLeaseMs: probeLeaseMs(scoped.timeoutMs) };
  return { model, breakerName: `${configured.name}:${model}`, target: scoped.target, lease };
}

/** Asks now for the first attempt's permit and guard of a `capability` call on its first provider. */
export function askEarly(deps: RouterDeps, capability: Capability, primaryModel?: string): EarlyPermit {
  const configured = deps.providers.find((p) => p.models[capability]);
  if (!configured) return { take: () => undefined, discard: () => undefined };
  const { breakerName, target, lease } = attemptOf(deps, configured, capability, primaryModel);
  let asked: Promise<FirstPermit> | undefined = Promise.all([
    deps.breaker.acquire(breakerName, lease),
    deps.admit?.(target),
  ]);
  // Not awaited until taken; a guard that failed is the router's to see then, or nobody's.
  asked.catch(() => undefined);
  return {
    take(name) {
      if (name !== breakerName || !asked) return undefined;
      const taken = asked;
      asked = undefined;
      return taken;
    },
    discard() {
      const left = asked;
      asked = undefined;
      left?.then(
        ([permit]) => {
          if (permit.allowed && permit.probe) deps.defer(deps.breaker.record(breakerName, permit, 'release'));
        },
        () => undefined,
      );
    },
  };
}
