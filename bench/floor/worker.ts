/**
 * The floor for `npm run bench` (#18): the least a Worker in front of the provider can do. It forwards
 * each request, unchanged, to UPSTREAM_URL (the simulator) and returns the answer, under the same
 * `wrangler dev` as the gateway, so their CPU per request compares like for like.
 */
interface FloorEnv {
  UPSTREAM_URL: string;
  LOG_LEVEL?: string;
}

export default {
  async fetch(request: Request, env: FloorEnv): Promise<Response> {
    const { pathname, search } = new URL(request.url);
    // The gateway's LOG_LEVEL=info writes one line per request; the floor pays the same.
    if (env.LOG_LEVEL === 'info' || env.LOG_LEVEL === 'debug') console.log(`${request.method} ${pathname}`);
    return fetch(`${env.UPSTREAM_URL}${pathname}${search}`, request);
  },
};
