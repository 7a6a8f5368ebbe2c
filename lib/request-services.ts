/**
 * A request's services as the route layer reaches them: built once from Hono's Context on first use
 * (lib/services.ts) and kept for the rest of the request; and the prompt variant the request meets.
 * Below this layer nothing takes a Context.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';
import { createServices, type Services } from './services';
import { chooseVariant, type Variant, type VariantTask } from './variants';

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
      origin: new URL(c.req.url).origin,
    });
    built.set(c, services);
  }
  return services;
}

/** The prompt variant for this request of `task` (sticky per cache fields; `x-gateway-variant` forces one). */
export function variantFor(c: Context<AppEnv>, task: VariantTask, fields: unknown): Variant | undefined {
  const variant = chooseVariant(c.get('env'), task, fields, c.req.header('x-gateway-variant'));
  if (variant) c.get('metrics')?.variant(variant.name);
  return variant;
}
