import type { Capability } from '../capabilities';
import type { Nanos } from '../pricing';
import type { TokenCounter } from '../tokens';
import type { CachePolicy } from './cache-policy';
import type { StreamApi } from './sse-events';
import type { UsageReader } from './usage';

/** What a proxied call may cost, and the units of work it counts. */
export interface ProxyEstimate {
  nanos: Nanos;
  units: number;
}

/** One proxied call, as an endpoint plans it. */
export interface ProxyPlan {
  /** Path under the provider's base URL, e.g. `/chat/completions`. */
  path: string;
  capability: Capability;
  /** Chat Completions may be served by a backup; the other APIs only by the primary (docs/api.md). */
  backups: boolean;
  /** The model asked for (the primary's); a backup uses its own. */
  model: string;
  /** The request as the client sent it after the gateway's output cap: the cache key. */
  body: Record<string, unknown>;
  /** What goes upstream: `body`, plus what the gateway needs (say, usage in a stream). */
  upstream: Record<string, unknown>;
  /**
   * The reservation, the dearest candidate's worst case (0 for a free API: nothing is reserved), and
   * the units of work it counts against the key (lib/unit-limit.ts). Synchronous, so the reservation
   * goes out in admission's tick; computed only for a key the isolate knows or has looked up, and on a
   * cache miss: counting a prompt's tokens costs CPU.
   */
  estimate: (counter: TokenCounter) => ProxyEstimate;
  usage: UsageReader;
  cache: CachePolicy;
  /** Set for `stream: true`. */
  stream?: { api: StreamApi; dropUsageChunk: boolean };
  /**
   * `json`: the answer is relayed as it arrives, never held whole (an image answer is megabytes of
   * base64; see json-relay.ts); only for a plan that is never cached.
   */
  relay?: 'json';
}
