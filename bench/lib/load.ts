import autocannon from 'autocannon';

/** What to send: one fixed request, or a fresh body per request (`nextBody`, e.g. distinct intents). */
export interface LoadTarget {
  url: string;
  /** @default 'POST' */
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Called for every request; replaces `body`. */
  nextBody?: () => string;
}

export interface LoadOptions {
  /** Concurrent connections (each keeps one request in flight). */
  connections: number;
  durationSeconds: number;
  /** A discarded run first, so connections, isolates and JITs are warm. @default 0 */
  warmupSeconds?: number;
}

export interface LoadResult {
  connections: number;
  durationSeconds: number;
  /** Responses received (any status). */
  requests: number;
  /** Responses per second over the measured run. */
  rps: number;
  /** Every response's latency, in ms, by nearest rank. */
  latencyMs: { p50: number; p95: number; p99: number; mean: number };
  /** Responses that were not 2xx (a sane run has none). */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
}

/**
 * Drives `target` with autocannon for `durationSeconds` at `connections` and reports throughput and
 * latency percentiles computed from every single response time (autocannon's own summary has no p95).
 */
export async function measure(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds) {
    await run(target, options.connections, options.warmupSeconds, () => {});
  }
  const latencies: number[] = [];
  const result = await run(target, options.connections, options.durationSeconds, (ms) => {
    latencies.push(ms);
  });
  latencies.sort((a, b) => a - b);
  const seconds = result.duration || options.durationSeconds;
  return {
    connections: options.connections,
    durationSeconds: round(seconds, 2),
    requests: latencies.length,
    rps: round(latencies.length / seconds, 1),
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      mean: round(latencies.reduce((sum, ms) => sum + ms, 0) / (latencies.length || 1), 2),
    },
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

function run(
  target: LoadTarget,
  connections: number,
  durationSeconds: number,
  onLatency: (ms: number) => void,
): Promise<autocannon.Result> {
  const { nextBody } = target;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        method: target.method ?? 'POST',
        headers: target.headers ?? {},
        ...(target.body === undefined ? {} : { body: target.body }),
        ...(nextBody ? { requests: [{ setupRequest: (req) => ({ ...req, body: nextBody() }) }] } : {}),
        connections,
        duration: durationSeconds,
        timeout: 30,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => onLatency(responseTime));
  });
}

/** Nearest-rank percentile of an ascending list, rounded to 0.01 ms. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return round(sorted[rank - 1] as number, 2);
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
