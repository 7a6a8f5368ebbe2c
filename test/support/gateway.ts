import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import worker, { createGateway } from '../../functions/index';
import { createDeps, newIsolateState } from '../../lib/deps';
import { afterResponse, requestContext } from './after-response';
import { envWith } from './env';
import { bearer, createTestKey } from './keys';
import { simKey } from './providers';

/** Calls the real Worker (every route and guard) with a custom env, waiting for its waitUntil work. */
export async function callGateway(
  path: string,
  init: RequestInit & { json?: unknown },
  env: Cloudflare.Env,
): Promise<Response> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  const request = new Request(`http://gateway${path}`, {
    method: json !== undefined ? 'POST' : 'GET',
    ...rest,
    headers,
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const ctx = requestContext();
  const res = await worker.fetch(request, env, ctx);
  await afterResponse(ctx);
  return res;
}

/** A new client key and simulator account (faults and counts stay with one test), and `post` to `path`. */
export async function freshCaller(path: string, overrides: Record<string, unknown> = {}) {
  const [{ key }, sim] = [await createTestKey({ rpm: 1000 }), simKey()];
  const env = envWith({ OPENAI_API_KEY: sim, ...overrides });
  const post = (json: unknown, headers: Record<string, string> = {}) =>
    callGateway(path, { json, headers: { ...bearer(key), ...headers } }, env);
  return { key, sim, env, post };
}

/**
 * `request(path, key, json?)` against `app` (a gateway built with its own deps, e.g. a test clock):
 * a POST of `json`, or a GET without it. Each request's after-response work is kept for `settled()`.
 */
export function appCaller(
  app: {
    request: (
      path: string,
      init: RequestInit,
      env: Cloudflare.Env,
      ctx: ExecutionContext,
    ) => Response | Promise<Response>;
  },
  env: Cloudflare.Env,
) {
  const pending: Promise<void>[] = [];
  const request = async (path: string, key: string, json?: unknown) => {
    const ctx = createExecutionContext();
    const init = json
      ? {
          method: 'POST',
          headers: { ...bearer(key), 'content-type': 'application/json' },
          body: JSON.stringify(json),
        }
      : { headers: bearer(key) };
    const res = await app.request(path, init, env, ctx);
    pending.push(waitOnExecutionContext(ctx));
    return res;
  };
  return { request, settled: () => Promise.all(pending.splice(0)) };
}

/**
 * The whole gateway with an isolate of its own, recording every Redis command its requests send, the
 * work after the response included (`redis.use` sees only this gateway's clients, unlike the bridge's
 * global counter). `request` waits for that work before it returns.
 */
export function redisCountingGateway() {
  const isolate = newIsolateState();
  /** Every command sent, as [name, ...args]. */
  const commands: unknown[][] = [];
  isolate.storeMiddleware = (req, next) => {
    const body = req.body as unknown[];
    commands.push(...((Array.isArray(body[0]) ? body : [body]) as unknown[][]));
    return next(req);
  };
  const app = createGateway((env) => createDeps(env, isolate));
  const request = async (path: string, init: RequestInit = {}, env: Cloudflare.Env = envWith({})) => {
    const ctx = requestContext();
    const res = await app.request(path, init, env, ctx);
    await afterResponse(ctx);
    return res;
  };
  return { request, commands };
}
