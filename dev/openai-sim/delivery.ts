import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimFaultKind } from './config.ts';
import { sendBytes, sendJson, startSse } from './http.ts';
import type { RouteResult } from './routes.ts';
import type { Schedule } from './schedule.ts';

/** How an answer's delivery ended. */
export interface DeliveryOutcome {
  /** False when the client went away, the server closed, or a `drop` fault cut the connection. */
  complete: boolean;
  /** Ms from the start of generation to the end of delivery (or to the cut). */
  elapsedMs: number;
}

/** What `deliver` needs besides the answer. */
export interface DeliveryOptions {
  /** The response headers, computed when the status line goes (they carry the processing time). */
  headers(): Record<string, string>;
  fault?: SimFaultKind;
  /** When the body (one entry) or each SSE frame may go; see schedule.ts. */
  schedule: Schedule;
  /** `performance.now()` when generation started; the schedule counts from here. */
  startedAt: number;
  /** Aborted when the client goes away or the server closes. */
  signal: AbortSignal;
}

/**
 * Writes a handler's result on its schedule, applying the transport faults that need the generated body:
 * - `malformed`: a 200 whose JSON body (or file content) is cut in half (for streams: one good event, then a
 *   broken one);
 * - `drop`: a non-streamed answer is never sent (the socket is destroyed when it would have gone); a stream
 *   sends the first half of its events, then the socket is destroyed.
 */
export async function deliver(
  res: ServerResponse,
  result: RouteResult,
  options: DeliveryOptions,
): Promise<DeliveryOutcome> {
  const elapsed = () => performance.now() - options.startedAt;
  const outcome = (complete: boolean) => ({ complete, elapsedMs: elapsed() });
  const reached = (atMs: number) => waitUntil(res, atMs - elapsed(), options.signal);
  const { fault } = options;
  if (result.kind !== 'sse') {
    if (!(await reached(options.schedule.frameAtMs[0] ?? 0))) return outcome(false);
    if (fault === 'drop') {
      res.socket?.destroy();
      return outcome(false);
    }
    sendBody(res, result, options.headers(), fault === 'malformed');
    return outcome(true);
  }
  const at = options.schedule.frameAtMs;
  if (fault === 'malformed') {
    if (!(await reached(at[0] ?? 0))) return outcome(false);
    startSse(res, options.headers());
    res.end(`${result.frames[0] ?? ''}data: {"malformed": tru\n\n`);
    return outcome(true);
  }
  const frames =
    fault === 'drop'
      ? result.frames.slice(0, Math.max(1, Math.floor(result.frames.length / 2)))
      : result.frames;
  for (let next = 0; next < frames.length; ) {
    if (!(await reached(at[next] ?? 0))) return outcome(false);
    if (next === 0) startSse(res, options.headers());
    // Every frame already due goes in one write, so an unpaced stream arrives at once.
    let end = next + 1;
    while (end < frames.length && (at[end] ?? 0) <= elapsed()) end += 1;
    await write(res, frames.slice(next, end).join(''), options.signal);
    next = end;
  }
  if (fault === 'drop') {
    res.socket?.destroy();
    return outcome(false);
  }
  res.end();
  return outcome(true);
}

/** Waits `ms` (if positive); false when the client or the server went away first. */
async function waitUntil(res: ServerResponse, ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms > 0) {
    try {
      await sleep(ms, undefined, { signal });
    } catch {
      return false;
    }
  }
  return !signal.aborted && !res.destroyed;
}

/** Writes `chunk` and resolves once it is handed to the socket, or when the client or server goes away. */
function write(res: ServerResponse, chunk: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || signal.aborted) return resolve();
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done);
    res.write(chunk, done);
  });
}

function sendBody(
  res: ServerResponse,
  result: Exclude<RouteResult, { kind: 'sse' }>,
  headers: Record<string, string>,
  malformed: boolean,
): void {
  if (result.kind === 'bytes') {
    const body = malformed ? result.body.subarray(0, Math.ceil(result.body.length / 2)) : result.body;
    sendBytes(res, 200, body, result.contentType, headers);
    return;
  }
  if (!malformed) {
    sendJson(res, 200, result.body, headers);
    return;
  }
  const payload = JSON.stringify(result.body);
  const broken = payload.slice(0, Math.max(1, Math.floor(payload.length / 2)));
  res.writeHead(200, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(broken)),
  });
  res.end(broken);
}
