import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import type { AppEnv } from './app-env';
import { configOf } from './config';
import { withInvocationPool } from './connections';
import type { Deps } from './deps';
import { ConfigError, type Env, parseEnv, secretsOf } from './env';
import { callerFirst, renderError } from './error-response';
import { MisconfiguredError, NotFoundError, OverloadedError, RequestTooLargeError } from './errors';
import { createLogger } from './log';
import { createMetricsCollector } from './metrics/collector';
import { nanosToUsd } from './pricing';

export type MakeDeps = (env: Env) => Deps;

export interface AppOptions {
  /** Paths whose requests are not counted in metrics (health checks, the metrics and dashboard pages). */
  unmetered?: (path: string) => boolean;
  /**
   * Confirms the caller of a request that failed before it was admitted (throws 401 when it is not a
   * known key); its client error is reported only to a known caller. Public routes are not asked.
   */
  verifyCaller?: (c: Context<AppEnv>) => Promise<void>;
  /** Paths never shed under overload (a liveness check that needs no Redis). */
  unshed?: (path: string) => boolean;
}

const MISCONFIGURED_MESSAGE = 'The gateway is misconfigured; its operator can see the details in the logs.';

/**
 * The Hono app every endpoint mounts on: request id, one log line per request, env validated once,
 * dependencies per request (its connection pool, set as the invocation's for everything it runs), a body
 * size limit, and the one error renderer.
 * @param makeDeps gives the request its clients; tests pass their own.
 */
export function createApp(makeDeps: MakeDeps, options: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const render = async (err: Error, c: Context<AppEnv>) =>
    renderError(c, await callerFirst(c, err, options.verifyCaller));
  const limitBody = bodyLimits();

  // One layer for what every request goes through, not one per concern: each Hono layer is an async
  // call, a closure and a promise on every request, a cache hit's included.
  app.use(async (c, next) => {
    const started = Date.now();
    const requestId = `req_${crypto.randomUUID().replaceAll('-', '')}`;
    c.set('requestId', requestId);
    try {
      await enter(c, next);
    } catch (err) {
      // As Hono answers for a layer that throws: the one renderer, on this request's context.
      if (!(err instanceof Error)) throw err;
      if (!c.get('log')) c.set('log', createLogger({ fields: { request_id: requestId } }));
      c.error = err;
      c.res = await render(err, c);
    }
    c.res.headers.set('x-request-id', requestId);
    finishRequest(c, Date.now() - started);
  });

  async function enter(c: Context<AppEnv>, next: () => Promise<void>): Promise<void> {
    const env = validEnv(c);
    c.set('env', env);
    c.set(
      'log',
      createLogger({
        level: env.LOG_LEVEL,
        fields: { request_id: c.get('requestId') },
        secrets: secretsOf(env),
      }),
    );
    const deps = makeDeps(env);
    c.set('deps', deps);
    // Paced before any work while the isolate's Redis calls queue (lib/admission.ts): a request waits
    // for its start on a timer of its own, and is shed once its longest wait is up. A shed request has
    // added nothing to the load.
    let started = false;
    if (!options.unshed?.(c.req.path)) {
      const admitted = await deps.admission.enter(
        { targetMs: env.OVERLOAD_LATENCY_MS, maxWaitMs: env.OVERLOAD_WAIT_MS, burst: env.OVERLOAD_BURST },
        deps,
      );
      if ('shedMs' in admitted) {
        throw new OverloadedError({
          message: 'The gateway is overloaded; retry after the time in Retry-After.',
          retryAfter: Math.min(60, Math.max(1, Math.ceil(admitted.shedMs / 1000))),
        });
      }
      started = true;
    }
    // Answered once its response (or a stream's headers) is returned: the next ticket may go.
    try {
      if (!options.unmetered?.(c.req.path)) c.set('metrics', createMetricsCollector(configOf(env).prices));
      // Every Redis call the request makes, after its response too, waits in its own pool.
      await withInvocationPool(deps.connections, () => limitBody(c, next, env.MAX_BODY_BYTES));
    } finally {
      if (started) deps.admission.finished(deps.now());
    }
  }

  app.notFound((c) =>
    renderError(c, new NotFoundError({ message: `No route for ${c.req.method} ${c.req.path}.` })),
  );
  app.onError(render);

  return app;
}

/** The request's env, validated once per isolate; a 500 (`misconfigured`) when it cannot work. */
function validEnv(c: Context<AppEnv>): Env {
  try {
    const env = parseEnv(c.env);
    configOf(env);
    return env;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // No env, so no level or secrets: the default logger, for this line and the error's.
    c.set('log', createLogger({ fields: { request_id: c.get('requestId') } }));
    c.get('log').error('configuration invalid', { problems: err.problems });
    throw new MisconfiguredError({ message: MISCONFIGURED_MESSAGE });
  }
}

/**
 * The body size limit (`413 request_too_large`): a declared length is checked here, with no layer of
 * its own; a body without one (chunked) is counted as it is read, by Hono's `bodyLimit`, built once per
 * size (a middleware per request is garbage per request).
 */
function bodyLimits() {
  const limits = new Map<number, MiddlewareHandler<AppEnv>>();
  const tooLarge = (maxSize: number) =>
    new RequestTooLargeError({ message: `Request body exceeds ${maxSize} bytes.` });
  return async (c: Context<AppEnv>, next: () => Promise<void>, maxSize: number): Promise<void> => {
    const { headers } = c.req.raw;
    const length = headers.get('content-length');
    if (length !== null && !headers.has('transfer-encoding')) {
      if (Number.parseInt(length, 10) > maxSize) throw tooLarge(maxSize);
      return next();
    }
    let limit = limits.get(maxSize);
    if (!limit) {
      limit = bodyLimit({
        maxSize,
        onError: () => {
          throw tooLarge(maxSize);
        },
      });
      limits.set(maxSize, limit);
    }
    await limit(c, next);
  };
}

/**
 * The request's one log line (for Workers Logs / Logpush: ids, route, outcome, who served it, what it
 * cost; never a key, a prompt or an output) and its metrics, written after the response.
 */
function finishRequest(c: Context<AppEnv>, durationMs: number): void {
  const errorCode = c.get('errorCode');
  const endpoint = errorCode === 'not_found' && c.res.status === 404 ? '(unmatched)' : routePath(c, -1);
  const cache = c.res.headers.get('x-cache') ?? undefined;
  const metrics = c.get('metrics');
  const principal = c.get('principal');
  const log = c.get('log');
  // Built only to be written: below LOG_LEVEL=info the line would be dropped after it was made.
  if (log.enabled('info')) {
    const spent = metrics?.summary();
    log.info('request', {
      method: c.req.method,
      path: c.req.path,
      route: endpoint,
      status: c.res.status,
      duration_ms: durationMs,
      ...(principal ? { key_id: principal.id } : {}),
      ...(cache ? { cache } : {}),
      ...(errorCode ? { error_code: errorCode } : {}),
      ...(spent?.calls
        ? {
            upstream_calls: spent.calls,
            provider: spent.provider,
            model: spent.model,
            cost_usd: nanosToUsd(spent.costNanos),
          }
        : {}),
    });
  }
  // A caller nobody could authenticate costs no Redis write: a flood of bad keys must not become one
  // write each, nor one whose keys Redis was too slow to check (the write would only add to its load).
  // Its log line above still counts it.
  const unchecked = (errorCode === 'store_unavailable' || errorCode === 'overloaded') && !principal;
  if (!metrics || c.res.status === 401 || unchecked) return;
  const env = c.get('env');
  const outcome = {
    endpoint,
    status: c.res.status,
    durationMs,
    ...(cache ? { cache } : {}),
    ...(errorCode ? { errorCode } : {}),
  };
  const { redis, now, metricsBuffer, connections } = c.get('deps');
  const at = now();
  const options = {
    namespace: env.METRICS_NAMESPACE,
    retentionDays: env.METRICS_RETENTION_DAYS,
    flushMs: env.METRICS_FLUSH_SECONDS * 1000,
  };
  const onError = (err: unknown) => c.get('log').warn('metrics not written', { cause: err });
  // Most requests hold nothing and find a write already on its way: their increments join it now, with
  // no async context, promise or `waitUntil` of their own (the write's is the request's that scheduled it).
  if (!metrics.holds() && metricsBuffer.scheduled) {
    metricsBuffer.add(at, metrics.increments(outcome), { redis, onError }, options);
    return;
  }
  // Added once any held work (a stream still relayed) has settled, so its usage is counted, with no
  // timer per request; the isolate's buffer writes it with everyone else's (lib/metrics/buffer.ts), in
  // this request's pool like its other calls (this function runs outside it).
  const written = withInvocationPool(connections, () =>
    metrics
      .settled()
      .then(() => metricsBuffer.add(at, metrics.increments(outcome), { redis, onError }, options)),
  );
  try {
    c.executionCtx.waitUntil(written);
  } catch {
    // No execution context (an app driven directly in tests): the write still runs, unawaited.
  }
}
