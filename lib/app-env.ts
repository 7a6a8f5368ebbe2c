/** The Hono environment every route and middleware shares: the Worker's bindings and each request's variables. */
import type { Deps } from './deps';
import type { Env } from './env';
import type { Logger } from './log';
import type { MetricsCollector } from './metrics/collector';
import type { Principal } from './principal';
import type { Services } from './services';

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
    /** The request's services, built on first use (lib/request-services.ts). */
    services: Services | undefined;
    /** The request's bearer, read once (lib/caller.ts). */
    bearer: string | undefined;
  };
};
