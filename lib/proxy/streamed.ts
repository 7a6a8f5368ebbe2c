/**
 * A proxied answer relayed to the client as it arrives, whatever its format (server-sent events, or a
 * JSON answer too large to hold: images): the reservation and the call up to the first upstream bytes
 * happen before the response, so a failure there is an ordinary error response (and a backup may still
 * serve); then the body is relayed, and the settle runs in waitUntil once it is over, from the usage
 * the relay read on the way.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import type { CacheStatus } from '../cache';
import { servedHeaders, type Usage } from '../providers';
import { callProviders, type ProviderCall } from '../providers/router';
import type { ObservedCall } from '../providers/router-deps';
import { budgeted, routerOf } from './budgeted';
import type { ProxyPlan } from './plan';

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

/** Relays `plan`'s answer through `relay`; `after` runs in waitUntil once it is over. */
export async function streamed<Opened>(
  c: Context<AppEnv>,
  plan: ProxyPlan,
  status: CacheStatus,
  relay: BodyRelay<Opened>,
  after: () => Promise<void> = async () => undefined,
): Promise<Response> {
  const routed = routerOf(c, plan);
  const { policy } = routed;
  // The call is recorded once the answer has ended, with the usage it carried.
  let observed: ObservedCall | undefined;
  const deps = {
    ...routed.deps,
    observe: (call: ObservedCall) => {
      observed = call;
    },
  };
  let opened: (response: Response) => void = () => undefined;
  const ready = new Promise<Response>((resolve) => {
    opened = resolve;
  });
  const done = budgeted(
    c,
    plan,
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
      opened(c.body(relayed.body, 200, { ...relay.headers, 'x-cache': status, ...servedHeaders(served) }));
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
  c.executionCtx.waitUntil(done.then(after, after).catch(() => undefined));
  c.get('metrics')?.hold(
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
