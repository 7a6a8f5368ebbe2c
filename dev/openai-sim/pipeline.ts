import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isRecord,
  latencyFor,
  parseFaults,
  parseLatency,
  type SimConfig,
  type SimFault,
  type SimFaultKind,
} from './config.ts';
import { deliver } from './delivery.ts';
import { SimHttpError } from './errors.ts';
import { CONTENT_FAULTS, pickFault, statusFaultResponse } from './faults.ts';
import type { ContentFault } from './generate.ts';
import { bearerToken, headerValue, readBytes, sendJson } from './http.ts';
import { DEFAULT_FLAGGED_TERMS } from './moderation-terms.ts';
import { parseMultipart } from './multipart.ts';
import type { RouteContext, SimRoute } from './routes.ts';
import type { SimState } from './state.ts';
import type { SimStorage } from './storage.ts';

/** What the pipeline needs from the server. */
export interface ApiDeps {
  state: SimState;
  /** Files and batches. */
  storage: SimStorage;
  routes: readonly SimRoute[];
  /** Response headers common to every answer (request id, processing time, rate limits). */
  headers(apiKey: string, tokens: number): Record<string, string>;
  /** Aborted when the server closes or the client goes away; cuts latency waits short. */
  signal: AbortSignal;
  /** Told which fault (if any) this request got, for logging. */
  onFault(kind: string): void;
}

const BAD_JSON_MESSAGE =
  'We could not parse the JSON body of your request. (HINT: This likely means you ' +
  "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, " +
  'but what was sent was not valid JSON.)';

const MISSING_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header " +
  'using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).';

/** One `/v1/*` request: auth, routing, body, fault choice, stats, latency, then the answer or the fault. */
export async function handleApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: ApiDeps,
): Promise<void> {
  const apiKey = bearerToken(req);
  if (!apiKey) throw new SimHttpError(401, MISSING_KEY_MESSAGE, { code: 'invalid_api_key' });
  const route = deps.routes.find(
    (candidate) => candidate.method === req.method && candidate.matches(url.pathname),
  );
  if (!route) throw new SimHttpError(404, `Invalid URL (${req.method} ${url.pathname})`);
  const body = await readRequestBody(req, route);
  const config = deps.state.configFor(apiKey);
  const supports = (kind: SimFaultKind) =>
    !CONTENT_FAULTS.includes(kind) || !!route.supportsFault?.(kind, body);
  const candidates = [...headerFaults(req), ...(config.faults ?? [])].filter(deps.state.hasUsesLeft);
  const fault = pickFault(candidates, route.endpoint, supports);
  // No await between picking and counting, so concurrent requests cannot both take a fault's last use.
  if (fault) deps.state.useFault(fault);
  const model = typeof body.model === 'string' ? body.model : route.defaultModel;
  deps.state.record({ apiKey, endpoint: route.endpoint, model, fault: fault?.kind });
  if (fault) deps.onFault(fault.kind);

  const latency = headerLatency(req) ?? latencyFor(config.latency_ms, route.endpoint);
  if (latency > 0) await sleep(latency, undefined, { signal: deps.signal });
  if (fault && answeredByFault(req, res, fault, body, deps.headers(apiKey, 0))) return;
  const ctx = routeContext(config, fault, {
    storage: deps.storage,
    routes: deps.routes,
    query: url.searchParams,
  });
  const result = route.handle(body, ctx, url.pathname);
  deliver(res, result, deps.headers(apiKey, result.tokens), fault?.kind, config.stream_interval_ms);
}

/** Handles the faults that replace the answer entirely; true when nothing more should be sent. */
function answeredByFault(
  req: IncomingMessage,
  res: ServerResponse,
  fault: SimFault,
  body: Record<string, unknown>,
  headers: Record<string, string>,
): boolean {
  if (fault.kind === 'timeout') return true; // never answer: the client's timeout or server close ends it
  if (fault.kind === 'drop' && body.stream !== true) {
    req.socket.destroy();
    return true;
  }
  if (fault.kind === 'status') {
    const answer = statusFaultResponse(fault);
    sendJson(res, answer.status, answer.body, { ...headers, ...answer.headers });
    return true;
  }
  return false;
}

function routeContext(
  config: SimConfig,
  fault: SimFault | undefined,
  shared: Pick<RouteContext, 'storage' | 'routes' | 'query'>,
): RouteContext {
  const contentFault =
    fault && CONTENT_FAULTS.includes(fault.kind) ? (fault.kind as ContentFault) : undefined;
  const nowMs = Date.now() + (config.clock_offset_ms ?? 0);
  return {
    contentFault,
    flaggedTerms: config.moderation?.flagged_terms ?? DEFAULT_FLAGGED_TERMS,
    flagImages: config.moderation?.flag_images ?? false,
    nowSeconds: Math.floor(nowMs / 1000),
    nowMs,
    newId: (prefix) => `${prefix}${randomBytes(12).toString('hex')}`,
    config,
    ...shared,
  };
}

/** The body as the route reads it: JSON (the default), a multipart upload, or none (GET, DELETE, cancel). */
async function readRequestBody(req: IncomingMessage, route: SimRoute): Promise<Record<string, unknown>> {
  const kind = route.method === 'POST' ? (route.body ?? 'json') : 'none';
  if (kind === 'none') return {};
  const bytes = await readBytes(req);
  return kind === 'multipart'
    ? parseMultipart(bytes, headerValue(req, 'content-type'))
    : parseJsonBody(bytes.toString('utf8'));
}

function parseJsonBody(raw: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new SimHttpError(400, BAD_JSON_MESSAGE);
  }
  if (!isRecord(body)) throw new SimHttpError(400, 'Invalid body: expected a JSON object.');
  return body;
}

/** Faults from the `x-sim-fault` header (a JSON fault or array); they are checked before the config's. */
function headerFaults(req: IncomingMessage): SimFault[] {
  const raw = headerValue(req, 'x-sim-fault');
  if (raw === undefined) return [];
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch {
    throw new SimHttpError(400, 'Invalid x-sim-fault header: not valid JSON.', { param: 'x-sim-fault' });
  }
  const parsed = parseFaults(input);
  if (!parsed.ok)
    throw new SimHttpError(400, `Invalid x-sim-fault header: ${parsed.message}.`, { param: 'x-sim-fault' });
  return parsed.value;
}

/** `x-sim-latency-ms` replaces the config's latency for this request. */
function headerLatency(req: IncomingMessage): number | undefined {
  const raw = headerValue(req, 'x-sim-latency-ms');
  if (raw === undefined) return undefined;
  const parsed = parseLatency(raw);
  if (!parsed.ok)
    throw new SimHttpError(400, `Invalid x-sim-latency-ms header: ${parsed.message}.`, {
      param: 'x-sim-latency-ms',
    });
  return parsed.value;
}
