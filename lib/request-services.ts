/**
 * A request's services as the route layer reaches them: built once from Hono's Context on first use
 * (lib/services.ts) and kept for the rest of the request. Below this layer nothing takes a Context.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';
import { createServices, type Services } from './services';

/** Each request's services, built on its first use and kept for the rest of the request. */
const built = new WeakMap<Context<AppEnv>, Services>();

/** The services of the request `c` is handling (lib/services.ts): built once, from plain data. */
export function servicesOf(c: Context<AppEnv>): Services {
  let services = built.get(c);
  if (!services) {
    services = createServices({
      env: c.get('env'),
      deps: c.get('deps'),
      log: c.get('log'),
      requestId: c.get('requestId'),
      metrics: c.get('metrics'),
      defer: (work) => c.executionCtx.waitUntil(work),
      principal: () => c.get('principal'),
      header: (name, value) => c.header(name, value),
      images: c.env.IMAGES,
      get origin() {
        return new URL(c.req.url).origin;
      },
      forcedVariant: c.req.header('x-gateway-variant'),
    });
    built.set(c, services);
  }
  return services;
}
