import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { configOf } from './config';
import type { Deps } from './deps';
import { ConfigError, type Env, parseEnv, secretsOf } from './env';
import {
  type GatewayError,
  MisconfiguredError,
  NotFoundError,
  RequestTooLargeError,
  toErrorBody,
  toGatewayError,
} from './errors';
import type { Principal } from './guards';
import { createLogger, type Logger } from './log';

export type AppEnv = {
  Bindings: Cloudflare.Env;
  Variables: { env: Env; deps: Deps; requestId: string; log: Logger; principal: Principal };
};

export type MakeDeps = (env: Env) => Deps;

const MISCONFIGURED_MESSAGE = 'The gateway is misconfigured; its operator can see the details in the logs.';

/**
 * The Hono app every endpoint mounts on: request id, one log line per request, env validated once,
 * dependencies built per request, a body size limit, and the one error renderer.
 * @param makeDeps builds the request's clients; tests pass their own.
 */
export function createApp(makeDeps: MakeDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    const started = Date.now();
    const requestId = `req_${crypto.randomUUID().replaceAll('-', '')}`;
    c.set('requestId', requestId);
    c.set('log', createLogger({ fields: { request_id: requestId } }));
    c.header('x-request-id', requestId);
    await next();
    c.res.headers.set('x-request-id', requestId);
    c.get('log').info('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      duration_ms: Date.now() - started,
    });
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
  app.onError((err, c) => renderError(c, err));

  return app;
}

/** Logs a failure at the level it deserves and renders the one error body with its headers. */
function renderError(c: Context<AppEnv>, err: unknown): Response {
  const error = toGatewayError(err);
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
