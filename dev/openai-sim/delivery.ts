import type { ServerResponse } from 'node:http';
import type { SimFaultKind } from './config.ts';
import { sendJson, startSse } from './http.ts';
import type { RouteResult } from './routes.ts';

/**
 * Writes a handler's result, applying the transport faults that need the generated body:
 * - `malformed`: a 200 whose JSON body is cut in half (for streams: one good event, then a broken one);
 * - `drop` on a stream: the first half of the events, then the socket is destroyed.
 * (A `drop` on a non-stream request never gets here: the socket is destroyed before generating.)
 */
export function deliver(
  res: ServerResponse,
  result: RouteResult,
  headers: Record<string, string>,
  fault?: SimFaultKind,
): void {
  if (res.destroyed) return;
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
    res.write(kept.join(''), () => res.socket?.destroy());
    return;
  }
  for (const frame of result.frames) res.write(frame);
  res.end();
}
