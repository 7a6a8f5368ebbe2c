import type { Breaker, BreakerState } from './breaker';

/** Each named breaker's state, read concurrently; `unknown` where Redis could not say. */
export function breakerStates(
  breaker: Pick<Breaker, 'inspect'>,
  names: string[],
): Promise<{ name: string; state: BreakerState | 'unknown' }[]> {
  return Promise.all(
    names.map(async (name) => ({
      name,
      state: await breaker.inspect(name).then(
        (s) => s.state,
        () => 'unknown' as const,
      ),
    })),
  );
}
