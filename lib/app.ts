import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import { configOf } from './config';
import type { Deps } from './deps';
import { ConfigError, type Env, parseEnv, secretsOf } from './env';
import { toGatewayError } from './error-mapping';
import {
  type GatewayError,
  MisconfiguredError,
  NotFoundError,
  RequestTooLargeError,
  toErrorBody,
} from './errors';
import { createLogger, type Logger } from './log';
import { createMetricsCollector, type MetricsCollector } from './metrics/collector';
import { writeMetrics } from './metrics/store';
import { nanosToUsd } from './pricing';
import type { Principal } from './principal';

export type AppEnv = {
  Bindings: Cloudflare.Env;
  Variables: {
    env: Env;
    deps: Deps;
    requestId: string;
    log: Logger;
    principal: Principal;
    /** Unset for requests that are not metered (see `unmetered`) or when the configuration is invalid. */
    metrics: MetricsCollector | undefined;
    /** The error code the response carries, when it is an error. */
    errorCode: string | undefined;
  };
};

export type MakeDeps = (env: Env) => Deps;

export interface AppOptions {
  /** Paths whose requests are not counted in metrics (health checks, the metrics and dashboard pages). */
  unmetered?: (path: string) => boolean;
  /**
   * Confirms the caller of a request that failed before it was admitted (throws 401 when it is not a
   * known key); its client error is reported only to a known caller. Public routes are not asked.
   */
  verifyCaller?: (c: Context<AppEnv>) => Promise<void>;
}

const MISCONFIGURED_MESSAGE = 'The gateway is misconfigured; its operator can see the details in the logs.';

/**
 * The Hono app every endpoint mounts on: request id, one log line per request, env validated once,
 * dependencies built per request, a body size limit, and the one error renderer.
 * @param makeDeps builds the request's clients; tests pass their own.
 */
export function createApp(makeDeps: MakeDeps, options: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const started = Date.now();
    const requestId = `req_${crypto.randomUUID().replaceAll('-', '')}`;
    c.set('requestId', requestId);
    c.set('log', createLogger({ fields: { request_id: requestId } }));
    c.header('x-request-id', requestId);
    await next();
    c.res.headers.set('x-request-id', requestId);
    finishRequest(c, Date.now() - started);
  });

  app.use(async (c, next) => {
    let env: Env;
    try {
      env = parseEnv(c.env);
      configOf(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      c.get('log').error('configuration invalid', { problems: err.problems });
      throw new MisconfiguredError({ message: MISCONFIGURED_MESSAGE });
    }
    c.set('env', env);
    c.set(
      'log',
      createLogger({
        level: env.LOG_LEVEL,
        fields: { request_id: c.get('requestId') },
        secrets: secretsOf(env),
      }),
    );
    c.set('deps', makeDeps(env));
    if (!options.unmetered?.(c.req.path)) c.set('metrics', createMetricsCollector(configOf(env).prices));
    await next();
  });

  app.use((c, next) =>
    bodyLimit({
      maxSize: c.get('env').MAX_BODY_BYTES,
      onError: () => {
        throw new RequestTooLargeError({
          message: `Request body exceeds ${c.get('env').MAX_BODY_BYTES} bytes.`,
        });
      },
    })(c, next),
  );

  app.notFound((c) =>
    renderError(c, new NotFoundError({ message: `No route for ${c.req.method} ${c.req.path}.` })),
  );
  app.onError(async (err, c) => renderError(c, await callerFirst(c, err, options.verifyCaller)));

  return app;
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
  const spent = metrics?.summary();
  c.get('log').info('request', {
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
  // A caller nobody could authenticate costs no Redis write: a flood of bad keys must not become one
  // write each, nor one whose keys Redis was too slow to check (the write would only add to its load).
  // Its log line above still counts it.
  const unchecked = errorCode === 'store_unavailable' && !principal;
  if (!metrics || c.res.status === 401 || unchecked) return;
  const env = c.get('env');
  const outcome = {
    endpoint,
    status: c.res.status,
    durationMs,
    ...(cache ? { cache } : {}),
    ...(errorCode ? { errorCode } : {}),
  };
  const store = { namespace: env.METRICS_NAMESPACE, retentionDays: env.METRICS_RETENTION_DAYS };
  const { redis, now } = c.get('deps');
  const at = now();
  // Started on the next turn, once the response has left (the write never shares its round trip), and
  // after any held work such as a stream still being relayed, so its usage is counted.
  const written = new Promise((resolve) => setTimeout(resolve, 0))
    .then(() => metrics.settled())
    .then(() =>
      writeMetrics(redis, store, at, metrics.increments(outcome), (err) =>
        c.get('log').warn('metrics not written', { cause: err }),
      ),
    );
  try {
    c.executionCtx.waitUntil(written);
  } catch {
    // No execution context (an app driven directly in tests): the write still runs, unawaited.
  }
}

const NOT_ABOUT_THE_REQUEST = new Set([401, 403, 429]);

/**
 * Authentication before any other answer: a client error (a bad body, an unknown model or variant)
 * raised before the caller was admitted is reported only once its key is known good; an unknown key
 * gets 401 whatever the body, and learns nothing of the gateway's models or variants.
 */
async function callerFirst(
  c: Context<AppEnv>,
  err: unknown,
  verifyCaller: AppOptions['verifyCaller'],
): Promise<unknown> {
  const { status } = toGatewayError(err);
  const admitted = (c.var as { principal?: Principal }).principal !== undefined;
  if (!verifyCaller || admitted || status < 400 || status >= 500 || NOT_ABOUT_THE_REQUEST.has(status))
    return err;
  try {
    await verifyCaller(c);
    return err;
  } catch (authError) {
    return authError;
  }
}

/** Logs a failure at the level it deserves and renders the one error body with its headers. */
function renderError(c: Context<AppEnv>, err: unknown): Response {
  const error = toGatewayError(err);
  c.set('errorCode', error.code);
  logFailure(c.get('log'), error, err);
  const headers: Record<string, string> = { 'x-request-id': c.get('requestId') };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(Math.ceil(error.retryAfter));
  return c.json(toErrorBody(error, c.get('requestId')), error.status, headers);
}

function logFailure(log: Logger, error: GatewayError, original: unknown): void {
  if (error.status < 500) {
    log.info('request rejected', { status: error.status, code: error.code });
    return;
  }
  const cause = original === error ? error.cause : original;
  log.error('request failed', { status: error.status, code: error.code, cause });
}
