/**
 * A proxied answer relayed to the client as it arrives, whatever its format (server-sent events, or a
 * JSON answer too large to hold: images): the reservation and the call up to the first upstream bytes
 * happen before the response, so a failure there is an ordinary error response (and a backup may still
 * serve); then the body is relayed, and the settle runs in waitUntil once it is over, from the usage
 * the relay read on the way.
 */
import type { CacheStatus } from '../cache';
import { servedHeaders, type Usage } from '../providers';
import { callProviders, type ProviderCall } from '../providers/router';
import type { ObservedCall } from '../providers/router-deps';
import type { Services } from '../services';
import { budgeted, type ProxyStart, routerOf, startOrNow } from './budgeted';
import type { ProxyPlan } from './plan';

/** A proxied answer as plain data: the route layer makes the Response (status 200). */
export interface Reply {
  body: string | ReadableStream<Uint8Array>;
  headers: Record<string, string>;
}

/** Who served a call. */
export type Served = { provider: string; model: string };

/** How one kind of answer is opened upstream (up to its first bytes) and relayed. */
export interface BodyRelay<Opened> {
  /** The response's own headers (its content type). */
  headers: Record<string, string>;
  /** The upstream call, up to its first bytes. */
  open: ProviderCall<Opened>;
  /** The relay of an opened answer; `outcome` settles once it is over, with the usage it carried. */
  relay(
    opened: Opened,
    served: Served,
  ): { body: ReadableStream<Uint8Array>; outcome: Promise<{ usage?: Usage }> };
}

/**
 * Relays `plan`'s answer through `relay` under `given`'s reservation (or one asked for now); `after` runs
 * in waitUntil once it is over.
 */
export async function streamed<Opened>(
  s: Services,
  plan: ProxyPlan,
  status: CacheStatus,
  relay: BodyRelay<Opened>,
  after: () => Promise<void> = async () => undefined,
  given?: ProxyStart,
): Promise<Reply> {
  const start = await startOrNow(s, plan, given);
  const routed = routerOf(s, plan, start.early);
  const { policy } = routed;
  // The call is recorded once the answer has ended, with the usage it carried.
  let observed: ObservedCall | undefined;
  const deps = {
    ...routed.deps,
    observe: (call: ObservedCall) => {
      observed = call;
    },
  };
  let opened: (reply: Reply) => void = () => undefined;
  const ready = new Promise<Reply>((resolve) => {
    opened = resolve;
  });
  const done = budgeted(
    s,
    start,
    async ({ keepAlive }, billing) => {
      const served = await callProviders(
        billing ? { ...deps, billing } : deps,
        plan.capability,
        policy,
        relay.open,
        { primaryModel: plan.model },
      );
      const who = { provider: served.provider, model: served.model };
      const relayed = relay.relay(served.value, who);
      opened({
        body: relayed.body,
        headers: { ...relay.headers, 'x-cache': status, ...servedHeaders(served) },
      });
      // The reservation's lease covers the call up to its first bytes; a long answer streams on for
      // longer (32k tokens at tens a second), and its headroom must not be handed to other calls nor
      // charged by a sweep meanwhile. So the lease is renewed, on a timer off the per-chunk path, until
      // the relay is over: `outcome` settles however it ends (completed, cancelled by the client,
      // failed upstream or idle), and the spender stops renewing once this work settles too.
      const stop = keepAlive();
      try {
        return { outcome: await relayed.outcome, ...who };
      } finally {
        stop();
      }
    },
    (result) => ({ model: result.model, usage: result.outcome.usage }),
  );
  s.defer(done.then(after, after).catch(() => undefined));
  s.metrics?.hold(
    done
      .then(({ outcome }) => {
        if (observed && outcome.usage) observed = { ...observed, usage: outcome.usage };
      })
      .finally(() => {
        if (observed) routed.deps.observe?.(observed);
      })
      .catch(() => undefined),
  );
  // Whichever comes first: the answer opened, or the call failed before its first byte.
  return Promise.race([ready, done.then(() => ready)]);
}
