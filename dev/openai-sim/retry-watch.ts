/**
 * Catches a client retrying a rate-limited call before the wait its 429 named. OpenAI cannot tell a retry
 * from a new call; the simulator can, by the client's own request id (`x-client-request-id`, which the
 * gateway sends on every attempt of one request) and the body: a call with the same id and body (the
 * caller passes both as `requestId`), endpoint and model as a refused one that arrives before that
 * refusal's wait is over is an early retry, counted in `/_sim/stats`.
 */
export function createRetryWatch(limit = 50_000) {
  /** `key|request id|endpoint|model` → the earliest time (scope clock, ms) a retry may arrive. */
  const notBefore = new Map<string, number>();
  const id = (apiKey: string, requestId: string, endpoint: string, model: string) =>
    `${apiKey}|${requestId}|${endpoint}|${model}`;
  return {
    /** A call refused with a 429 naming `waitMs` (Infinity: it can never fit). */
    refused(
      apiKey: string,
      requestId: string,
      endpoint: string,
      model: string,
      atMs: number,
      waitMs: number,
    ) {
      const key = id(apiKey, requestId, endpoint, model);
      if (!notBefore.has(key) && notBefore.size >= limit)
        notBefore.delete(notBefore.keys().next().value as string);
      notBefore.set(key, atMs + waitMs);
    },
    /** Whether this call retries a refused one too early. */
    early(apiKey: string, requestId: string, endpoint: string, model: string, atMs: number): boolean {
      const earliest = notBefore.get(id(apiKey, requestId, endpoint, model));
      return earliest !== undefined && atMs < earliest;
    },
    clear(apiKey?: string) {
      if (apiKey === undefined) notBefore.clear();
      else for (const k of notBefore.keys()) if (k.startsWith(`${apiKey}|`)) notBefore.delete(k);
    },
  };
}

export type RetryWatch = ReturnType<typeof createRetryWatch>;
