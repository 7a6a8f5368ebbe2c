import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { admit } from './admission.ts';
import {
  isRecord,
  namedLatency,
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
import { billOnce, type Charge } from './invoice.ts';
import { withOutput } from './meter.ts';
import { DEFAULT_FLAGGED_TERMS } from './moderation-terms.ts';
import { parseMultipart } from './multipart.ts';
import { isRealistic, timeScaleOf } from './profile.ts';
import { CACHE_IDLE_MS, CACHE_OVERFLOW_RPM } from './prompt-cache.ts';
import { hashOf } from './rng.ts';
import type { RouteContext, RouteResult, SimRoute } from './routes.ts';
import { scheduleFor } from './schedule.ts';
import type { SimState } from './state.ts';
import type { SimStorage } from './storage.ts';

/** What the pipeline needs from the server. */
export interface ApiDeps {
  state: SimState;
  /** Files and batches. */
  storage: SimStorage;
  routes: readonly SimRoute[];
  /** Response headers computed when an answer goes (processing time). */
  headers(): Record<string, string>;
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

/**
 * One `/v1/*` request: auth, routing, body, admission (quota and rate limits, see admission.ts), fault
 * choice, stats, then the answer or the fault. A refused account gets its 429 at once; a `status` fault (or a
 * rejected request) answers after the configured latency; neither is billed. Anything else is
 * generated at once and billed (see invoice.ts), whatever happens to the client: delivery follows the
 * schedule (explicit latency, the realistic profile, or at once), a `timeout` fault never answers and is
 * billed when the client gives up.
 */
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
  const model = typeof body.model === 'string' ? body.model : route.defaultModel;
  const nowMs = () => Date.now() + (config.clock_offset_ms ?? 0);
  const arrivedMs = nowMs();
  const clientRequestId = headerValue(req, 'x-client-request-id');
  // A retry sends the same body again; a request's other calls to the same model (a batch's images) do not.
  const watched = clientRequestId && { id: `${clientRequestId}:${hashOf(body)}`, model: model ?? '' };
  const early =
    !!watched && deps.state.retryWatch.early(apiKey, watched.id, route.endpoint, watched.model, arrivedMs);
  const admission = admit(
    { apiKey, endpoint: route.endpoint, model: model ?? '', body, config, nowMs: arrivedMs },
    deps.state,
  );
  // Set on the response, so the answer carries them whatever it turns out to be (a 400 included).
  for (const [name, value] of Object.entries(admission.headers)) res.setHeader(name, value);
  if (admission.refusal) {
    const { code, body: refusal, headers, waitMs } = admission.refusal;
    if (watched)
      deps.state.retryWatch.refused(apiKey, watched.id, route.endpoint, watched.model, arrivedMs, waitMs);
    deps.state.record({ apiKey, endpoint: route.endpoint, model, fault: code, early });
    deps.onFault(code);
    sendJson(res, 429, refusal, { ...deps.headers(), ...headers });
    return;
  }
  const supports = (kind: SimFaultKind) =>
    !CONTENT_FAULTS.includes(kind) || !!route.supportsFault?.(kind, body);
  const candidates = [...headerFaults(req), ...(config.faults ?? [])].filter(deps.state.hasUsesLeft);
  const fault = pickFault(candidates, route.endpoint, supports);
  // No await between picking and counting, so concurrent requests cannot both take a fault's last use.
  if (fault) deps.state.useFault(fault);
  deps.state.record({ apiKey, endpoint: route.endpoint, model, fault: fault?.kind, early });
  deps.state.images.record(apiKey, route.endpoint, body);
  if (fault) deps.onFault(fault.kind);

  const startedAt = performance.now();
  const latency = headerLatency(req) ?? namedLatency(config.latency_ms, route.endpoint);
  if (fault?.kind === 'status') {
    await sleep(latency ?? 0, undefined, { signal: deps.signal });
    const answer = statusFaultResponse(fault);
    sendJson(res, answer.status, answer.body, { ...deps.headers(), ...answer.headers });
    return;
  }
  const ctx = routeContext(config, fault, apiKey, deps, url.searchParams);
  let result: RouteResult;
  try {
    result = route.handle(body, ctx, url.pathname);
  } catch (error) {
    await sleep(latency ?? 0, undefined, { signal: deps.signal });
    throw error;
  }
  const meter = result.kind === 'bytes' ? undefined : result.meter;
  const bill = billOnce(deps.state.invoice, {
    apiKey,
    endpoint: route.endpoint,
    requestId: headerValue(req, 'x-client-request-id') ?? null,
    fault: fault && TRANSPORT_FAULTS.includes(fault.kind) ? (fault.kind as Charge['fault']) : null,
    nowMs,
  });
  if (fault?.kind === 'timeout') {
    // The answer never comes, but the work was done: billed once the client (or the server) gives up.
    if (meter) whenAborted(deps.signal, () => bill(meter.usage, true));
    return;
  }
  const schedule = scheduleFor(result, config, latency);
  // The modelled delay of the answer (its last frame), apart from the simulator's own work, so a test can
  // bound the model without bounding how busy the machine is.
  const scheduledMs = String(Math.round(schedule.frameAtMs.at(-1) ?? 0));
  const outcome = await deliver(res, result, {
    headers: () => ({ ...deps.headers(), 'x-sim-scheduled-ms': scheduledMs }),
    fault: fault?.kind,
    schedule,
    startedAt,
    signal: deps.signal,
  });
  if (!meter) return;
  // A non-streamed answer is generated in full whatever the client does; a stream stops at the cut.
  const generated =
    result.kind === 'sse' && !outcome.complete ? schedule.generatedAt(outcome.elapsedMs) : null;
  bill(generated ? withOutput(meter.usage, generated) : meter.usage, !outcome.complete);
}

const TRANSPORT_FAULTS: readonly SimFaultKind[] = ['timeout', 'drop', 'malformed'];

function whenAborted(signal: AbortSignal, run: () => void): void {
  if (signal.aborted) run();
  else signal.addEventListener('abort', run, { once: true });
}

function routeContext(
  config: SimConfig,
  fault: SimFault | undefined,
  apiKey: string,
  deps: ApiDeps,
  query: URLSearchParams,
): RouteContext {
  const contentFault =
    fault && CONTENT_FAULTS.includes(fault.kind) ? (fault.kind as ContentFault) : undefined;
  const nowMs = Date.now() + (config.clock_offset_ms ?? 0);
  const realistic = isRealistic(config);
  const timeScale = timeScaleOf(config);
  const cache = {
    apiKey,
    nowMs,
    idleMs: (config.prompt_cache_idle_ms ?? CACHE_IDLE_MS) * timeScale,
    windowMs: 60_000 * timeScale,
    overflowRpm: config.prompt_cache_overflow_rpm ?? CACHE_OVERFLOW_RPM,
  };
  return {
    contentFault,
    flaggedTerms: config.moderation?.flagged_terms ?? DEFAULT_FLAGGED_TERMS,
    flagImages: config.moderation?.flag_images ?? false,
    nowSeconds: Math.floor(nowMs / 1000),
    nowMs,
    newId: (prefix) => `${prefix}${randomBytes(12).toString('hex')}`,
    config,
    storage: deps.storage,
    routes: deps.routes,
    query,
    apiKey,
    realistic,
    promptCache: (prompt, inputTokens) => deps.state.promptCache.use({ ...cache, prompt, inputTokens }),
    invoice: deps.state.invoice,
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
