import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import worker from '../../functions/index';

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
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
