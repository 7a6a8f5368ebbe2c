import { sleep } from './processes.ts';
import type { Stack } from './stack.ts';

/** One key's budget figures from `GET /v1/budget` (USD). */
export interface KeySpend {
  spent_usd: number;
  reserved_usd: number;
  calls: number;
}

/** Bearer and JSON headers for a gateway or simulator key. */
export function jsonHeaders(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extra };
}

/** POSTs JSON and returns the status, the headers and the parsed body (or the text). */
export async function postJson(url: string, key: string, body: unknown, extra: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: jsonHeaders(key, extra),
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error message
  }
  return { status: res.status, headers: res.headers, json };
}

/** Upstream calls the simulator has seen, by endpoint (globally, or for one simulator key). */
export async function simRequests(stack: Stack, key?: string): Promise<Record<string, number>> {
  const query = key ? `?key=${encodeURIComponent(key)}` : '';
  const res = await fetch(`${stack.simulatorUrl}/_sim/stats${query}`);
  return ((await res.json()) as { requests: Record<string, number> }).requests;
}

/** Sum of the simulator's counts, optionally only for endpoints matching `only`. */
export function total(requests: Record<string, number>, only?: RegExp): number {
  return Object.entries(requests)
    .filter(([endpoint]) => !only || only.test(endpoint))
    .reduce((sum, [, n]) => sum + n, 0);
}

/** The bridge's counters: HTTP requests (Redis round trips) and Redis commands. */
export async function bridgeStats(
  stack: Pick<Stack, 'bridgeUrl'>,
): Promise<{ requests: number; commands: number }> {
  const res = await fetch(`${stack.bridgeUrl}/_bridge/stats`);
  return (await res.json()) as { requests: number; commands: number };
}

/**
 * The caller's own spend today, once nothing is reserved any more: settlement runs after the
 * response (in `waitUntil`), so a figure read at once may still hold reservations.
 */
export async function settledSpend(stack: Stack, key: string, timeoutMs = 30_000): Promise<KeySpend> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${stack.gatewayUrl}/v1/budget`, { headers: { authorization: `Bearer ${key}` } });
    const body = (await res.json()) as { key: KeySpend };
    if (body.key.reserved_usd === 0 || Date.now() > deadline) return body.key;
    await sleep(200);
  }
}

/** Runs `task` over `items` with at most `concurrency` in flight; results keep the input order. */
export async function pool<T, R>(items: T[], concurrency: number, task: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
