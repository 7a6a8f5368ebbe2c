/**
 * What one request's services (lib/services.ts) are built from: plain data and a few functions, never
 * Hono's Context. The route layer builds it from a Context (lib/request-services.ts); a test writes
 * one by hand.
 */
import type { Deps } from './deps';
import type { Env } from './env';
import type { ImageBucket } from './image-store';
import type { Logger } from './log';
import type { MetricsCollector } from './metrics/collector';
import type { Principal } from './principal';

/** What a request's services are built from. */
export interface RequestScope {
  env: Env;
  deps: Deps;
  log: Logger;
  requestId: string;
  metrics: MetricsCollector | undefined;
  /** Work after the response (`ctx.waitUntil`). */
  defer: (work: Promise<unknown>) => void;
  /** Who the request acts for, once admission has said. */
  principal: () => Principal;
  /** Sets a response header (the units left, say). */
  header: (name: string, value: string) => void;
  /** The R2 bucket of generated images, and the origin their public URLs start with. */
  images: ImageBucket;
  origin: string;
  /** The prompt variant the client forces (`x-gateway-variant`), if any. */
  forcedVariant?: string | undefined;
}
