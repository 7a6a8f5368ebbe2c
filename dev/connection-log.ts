import type { IncomingMessage, ServerResponse } from 'node:http';

/** One request as a client's connection saw it: from arrival to the response's headers (epoch ms). */
export type ConnectionInterval = [start: number, headersAt: number | null];

/**
 * The requests a local server (bridge, simulator) has seen, as intervals, so a test can count how many
 * one Worker invocation had open at once. Workers frees a connection slot when the response headers
 * arrive, so an interval ends when the headers are sent (or the connection closes without them).
 */
export function createConnectionLog(limit = 20_000) {
  let intervals: ConnectionInterval[] = [];
  return {
    track(_req: IncomingMessage, res: ServerResponse): void {
      const interval: ConnectionInterval = [Date.now(), null];
      if (intervals.length >= limit) intervals.shift();
      intervals.push(interval);
      const end = () => {
        interval[1] ??= Date.now();
      };
      const writeHead = res.writeHead;
      res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
        end();
        return writeHead.apply(this, args);
      } as ServerResponse['writeHead'];
      res.on('close', end);
    },
    intervals: (): ConnectionInterval[] => intervals.map(([start, at]) => [start, at]),
    reset(): void {
      intervals = [];
    },
  };
}

export type ConnectionLog = ReturnType<typeof createConnectionLog>;

/** The most intervals open at one instant (one ending as another starts counts as not overlapping). */
export function peakOverlap(intervals: readonly ConnectionInterval[], now = Date.now()): number {
  const events = intervals.flatMap(([start, end]): [number, number][] => [
    [start, 1],
    [end ?? now, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, delta] of events) {
    open += delta;
    peak = Math.max(peak, open);
  }
  return peak;
}
