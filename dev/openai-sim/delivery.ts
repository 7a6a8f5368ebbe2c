import type { ServerResponse } from 'node:http';
import type { SimFaultKind } from './config.ts';
import { sendBytes, sendJson, startSse } from './http.ts';
import type { RouteResult } from './routes.ts';

/**
 * Writes a handler's result, applying the transport faults that need the generated body:
 * - `malformed`: a 200 whose JSON body (or file content) is cut in half (for streams: one good event, then a
 *   broken one);
 * - `drop` on a stream: the first half of the events, then the socket is destroyed.
 * (A `drop` on a non-stream request never gets here: the socket is destroyed before generating.)
 * With `streamIntervalMs`, a stream's events are written that far apart (a drop still cuts it in half).
 */
export function deliver(
  res: ServerResponse,
  result: RouteResult,
  headers: Record<string, string>,
  fault?: SimFaultKind,
  streamIntervalMs = 0,
): void {
  if (res.destroyed) return;
  if (result.kind === 'bytes') {
    const body =
      fault === 'malformed' ? result.body.subarray(0, Math.ceil(result.body.length / 2)) : result.body;
    sendBytes(res, 200, body, result.contentType, headers);
    return;
  }
  if (result.kind === 'json') {
    if (fault !== 'malformed') {
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
    return;
  }
  startSse(res, headers);
  if (fault === 'malformed') {
    res.end(`${result.frames[0] ?? ''}data: {"malformed": tru\n\n`);
    return;
  }
  if (fault === 'drop') {
    const kept = result.frames.slice(0, Math.max(1, Math.floor(result.frames.length / 2)));
    writeFrames(res, kept, streamIntervalMs, () => res.socket?.destroy());
    return;
  }
  if (streamIntervalMs > 0) {
    writeFrames(res, result.frames, streamIntervalMs, () => res.end());
    return;
  }
  for (const frame of result.frames) res.write(frame);
  res.end();
}

/** Writes `frames` (at once, or `intervalMs` apart), then calls `done`; stops if the client goes away. */
function writeFrames(res: ServerResponse, frames: string[], intervalMs: number, done: () => void): void {
  if (intervalMs <= 0) {
    res.write(frames.join(''), done);
    return;
  }
  const next = (index: number) => {
    if (res.destroyed) return;
    if (index >= frames.length) {
      done();
      return;
    }
    res.write(frames[index] as string);
    setTimeout(() => next(index + 1), intervalMs);
  };
  next(0);
}
