import { Redis } from '@upstash/redis/cloudflare';
import { batchCommands } from '../../lib/store-batch';
import { restTransport } from '../../lib/store-transport';
import { bindings } from './env';

/**
 * A Redis client like createDeps builds (its transport and batching), recording each HTTP request it sends: `redis.use` wraps this
 * client's own request function, so each entry is one round trip to the bridge with the commands it
 * carried (one batch, lib/store-batch.ts). Unlike the bridge's `/_bridge/stats`, which counts every test
 * file running in parallel, this sees only the client under test.
 */
export function countingClient(url = bindings.UPSTASH_REDIS_REST_URL) {
  const requests: unknown[][] = [];
  const token = bindings.UPSTASH_REDIS_REST_TOKEN;
  const signal = () => AbortSignal.timeout(2000);
  const redis = new Redis({
    url,
    token,
    signal,
    retry: { retries: 0 },
    enableTelemetry: false,
    enableAutoPipelining: false,
  });
  redis.use(restTransport({ url, token, timeoutMs: 2000 }));
  redis.use((req, next) => {
    const body = req.body as unknown[];
    requests.push(Array.isArray(body[0]) ? body : [body]);
    return next(req);
  });
  redis.use(batchCommands());
  return { redis, requests };
}
