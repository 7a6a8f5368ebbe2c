/**
 * A request's services as the route layer reaches them: built once from Hono's Context on first use
 * (lib/services.ts) and kept for the rest of the request. Below this layer nothing takes a Context.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';
import type { Deps } from './deps';
import type { Env } from './env';
import type { ImageBucket } from './image-store';
import type { Logger } from './log';
import type { MetricsCollector } from './metrics/collector';
import type { Principal } from './principal';
import type { RequestScope } from './request-scope';
import { createServices, type Services } from './services';

/**
 * The services of the request `c` is handling (lib/services.ts): built once, from plain data, and kept
 * on the request's context.
 */
export function servicesOf(c: Context<AppEnv>): Services {
  let services = c.get('services');
  if (!services) {
    services = createServices(new ContextScope(c));
    c.set('services', services);
  }
  return services;
}

// Neither an object literal with a getter nor a WeakMap keyed by the context. V8 keeps a literal's
// getter (a new closure on every request), with all it reaches, past young-generation collections; and
// its young-generation collector keeps a WeakMap value that reaches its own key (the services reach the
// context back): both until a full collection. Either way every request's whole object graph outlived its
// young-generation collections: about 3 KB a request promoted, and a full collection of the isolate's
// heap every few seconds under load.
class ContextScope implements RequestScope {
  readonly env: Env;
  readonly deps: Deps;
  readonly log: Logger;
  readonly requestId: string;
  readonly metrics: MetricsCollector | undefined;
  readonly defer: (work: Promise<unknown>) => void;
  readonly principal: () => Principal;
  readonly header: (name: string, value: string) => void;
  readonly images: ImageBucket;
  readonly forcedVariant: string | undefined;
  readonly #c: Context<AppEnv>;

  constructor(c: Context<AppEnv>) {
    this.#c = c;
    this.env = c.get('env');
    this.deps = c.get('deps');
    this.log = c.get('log');
    this.requestId = c.get('requestId');
    this.metrics = c.get('metrics');
    this.defer = (work) => c.executionCtx.waitUntil(work);
    this.principal = () => c.get('principal');
    this.header = (name, value) => c.header(name, value);
    this.images = c.env.IMAGES;
    this.forcedVariant = c.req.header('x-gateway-variant');
  }

  get origin(): string {
    return new URL(this.#c.req.url).origin;
  }
}
