/**
 * The soak's load: autocannon on one warm cache-hit request, every answer classified (served, shed,
 * error; soak-verdict.ts), the served latencies kept for their own percentiles.
 */
import autocannon from 'autocannon';
import { GATEWAY_NAME, routeTo } from '../lib/floor.ts';
import { percentile } from '../lib/load.ts';
import type { DrillStack } from './harness.ts';
import { classify } from './soak-verdict.ts';

/**
 * One autocannon run on the warm intent: every answer classified, served latencies kept.
 * @param settleS seconds at the start left out of `steadyServedRps` (the connections opening).
 */
export async function hammer(
  stack: DrillStack,
  key: string,
  body: string,
  connections: number,
  durationS: number,
  settleS = 0,
) {
  const statusCodes: Record<string, number> = {};
  // The error code of every failed answer, so a failure says what it was.
  const errorCodes: Record<string, number> = {};
  let shed = 0;
  let failed = 0;
  let servedNotHit = 0;
  const served: number[] = [];
  // Past wrangler's dev proxy when the stack found the gateway's own socket, as the bench's cpu phase:
  // production has no such proxy, and under this load it took 60 % of a core of the two.
  const entry = stack.workerEntryUrl;
  const options: autocannon.Options = {
    url: `${entry ?? stack.gatewayUrl}/v1/opportunities`,
    connections,
    duration: durationS,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          ...(entry ? routeTo(GATEWAY_NAME) : {}),
        },
        body,
        onResponse: (status, text, _context, headers) => {
          statusCodes[status] = (statusCodes[status] ?? 0) + 1;
          const outcome = classify(status, headers ?? {});
          if (outcome === 'served') {
            if (header(headers ?? {}, 'x-cache') !== 'HIT') servedNotHit++;
            return;
          }
          if (outcome === 'shed') shed++;
          else failed++;
          const code = `${status} ${/"code":"([^"]+)"/.exec(text)?.[1] ?? 'untyped'}`;
          errorCodes[code] = (errorCodes[code] ?? 0) + 1;
        },
      },
    ],
  };
  const started = Date.now();
  let servedSettled = 0; // served after the first settleS seconds
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, done) => (error ? reject(error) : resolve(done)));
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status < 200 || status >= 300) return;
      served.push(ms);
      if (Date.now() - started >= settleS * 1000) servedSettled += 1;
    });
  });
  served.sort((a, b) => a - b);
  const responses = Object.values(statusCodes).reduce((sum, n) => sum + n, 0);
  const attempts = responses + result.errors;
  return {
    attempts,
    durationS: result.duration,
    rps: Math.round(attempts / result.duration),
    servedRps: Math.round(served.length / result.duration),
    /** Served per second after the first `settleS` seconds. */
    steadyServedRps: Math.round(servedSettled / Math.max(1, result.duration - settleS)),
    shed,
    errors: failed + result.errors,
    connectionErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    servedNotHit,
    statusCodes,
    errorCodes,
    servedLatencyMs: {
      p50: percentile(served, 50),
      p90: percentile(served, 90),
      p99: percentile(served, 99),
      max: served.at(-1) ?? 0,
    },
  };
}

function header(headers: Record<string, unknown>, name: string): unknown {
  const found = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return found === undefined ? undefined : headers[found];
}
