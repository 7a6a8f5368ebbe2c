/**
 * Breaker states sampled from `GET /v1/metrics?minutes=1` while a drill runs, to count transitions. A
 * sample a second apart can miss a breaker that opened and closed in between; the counts are a floor.
 */
import { type DrillStack, gw } from './harness.ts';

/** One observed change of a breaker's state, `atMs` after the watch started. */
export interface BreakerTransition {
  breaker: string;
  from: string;
  to: string;
  atMs: number;
}

/** Watches breaker states until `stop()`, which returns the transitions seen. */
export function watchBreakers(stack: DrillStack, everyMs = 1000) {
  const started = performance.now();
  const last = new Map<string, string>();
  const transitions: BreakerTransition[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const reply = await gw(stack, '/v1/metrics?minutes=1', { key: stack.adminKey, timeoutMs: 5000 });
      const breakers = (reply.body as { breakers?: { name: string; state: string }[] } | undefined)?.breakers;
      for (const { name, state } of breakers ?? []) {
        const before = last.get(name) ?? 'closed';
        if (before !== state) {
          transitions.push({
            breaker: name,
            from: before,
            to: state,
            atMs: Math.round(performance.now() - started),
          });
        }
        last.set(name, state);
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop(): Promise<BreakerTransition[]> {
      running = false;
      await loop;
      return transitions;
    },
  };
}

/** Transitions counted as `"closed→open": n`. */
export function countTransitions(transitions: BreakerTransition[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of transitions) counts[`${t.from}→${t.to}`] = (counts[`${t.from}→${t.to}`] ?? 0) + 1;
  return counts;
}
