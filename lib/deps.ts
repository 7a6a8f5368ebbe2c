import { Redis } from '@upstash/redis/cloudflare';
import { type Admission, createAdmission } from './admission';
import { type ConnectionPool, createConnectionPool, invocationPool } from './connections';
import type { Env } from './env';
import type { KeyRecord } from './keys';
import { createMetricsBuffer, type MetricsBuffer } from './metrics/buffer';
import { createProviderTargets, type ProviderTarget } from './providers/targets';
import { createSettleBatch, type SettleBatch } from './settle-batch';
import { batchCommands } from './store-batch';
import { createStoreLoad, type StoreLoad } from './store-load';
import { restTransport } from './store-transport';

/** What request handlers use to reach the outside world; tests build their own. */
export interface Deps {
  redis: Redis;
  /** This invocation's outbound connections (Workers' six): Redis, providers and webhooks share them. */
  connections: ConnectionPool;
  /** The primary provider (OpenAI) first, then the configured backups; built on the first call. */
  providers: () => ProviderTarget[];
  /** Milliseconds since the epoch. In Workers it only advances across I/O. */
  now: () => number;
  /** A random id with a type prefix, e.g. `req_3f…`. */
  newId: (prefix: string) => string;
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1), for jitter. */
  random: () => number;
  /** Per-isolate memory of rate-limit denials (@upstash/ratelimit `ephemeralCache`). */
  ratelimitCache: Map<string, number>;
  /**
   * Per-isolate memory of each key's record, so its rate limit (and what acts for it) can run before its
   * lookup returns.
   */
  keyRecords: Map<string, KeyRecord>;
  /** Per-isolate memory of provider API key → digest (the upstream limit's account id). */
  accountDigests: Map<string, string>;
  /** The isolate's metrics, written once per flush interval (lib/metrics/buffer.ts). */
  metricsBuffer: MetricsBuffer;
  /** The isolate's budget settles, written together while its reservations overlap (lib/settle-batch.ts). */
  settleBatch: SettleBatch;
  /** When new requests may start while the isolate is overloaded (lib/admission.ts). */
  admission: Admission;
}

/** State that outlives a request: created once per isolate in functions/index.ts. */
export interface IsolateState {
  ratelimitCache: Map<string, number>;
  keyRecords: Map<string, KeyRecord>;
  accountDigests: Map<string, string>;
  metricsBuffer: MetricsBuffer;
  settleBatch: SettleBatch;
  /** How long the isolate's Redis requests are taking (lib/store-load.ts): what the admission reads. */
  storeLoad: StoreLoad;
  admission: Admission;
  /** The isolate's Redis client per env (one env in production), built on the first request. */
  redisClients: WeakMap<Env, Redis>;
  /**
   * Sees every Redis request the isolate's clients send, a batch as one (tests count and fault them); read
   * when a client is built, so set it before the isolate's first request.
   */
  storeMiddleware?: StoreMiddleware;
}

/** A `redis.use` middleware. */
export type StoreMiddleware = Parameters<Redis['use']>[0];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const now = () => Date.now();
const newId = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`;

export function newIsolateState(): IsolateState {
  const state: IsolateState = {
    redisClients: new WeakMap(),
    ratelimitCache: new Map(),
    keyRecords: new Map(),
    accountDigests: new Map(),
    metricsBuffer: createMetricsBuffer(sleep),
    settleBatch: createSettleBatch({ sleep, now }),
    storeLoad: createStoreLoad(),
    // Reads the isolate's store load as it is then (a test may give the isolate another).
    admission: createAdmission((now) => state.storeLoad.queueingMs(now)),
  };
  return state;
}

/**
 * The one place that constructs clients. Called per request; the Redis client is the isolate's, built
 * once per env: constructing one (its hundreds of command methods) was a tenth of a cache hit's CPU.
 * Sharing it is safe: its batching (lib/store-batch.ts) sends a batch two microtasks after the batch's
 * first command, so within the one invocation's task that issued it (another invocation's continuation
 * runs as a task of its own, workerd's `handle_cross_request_promise_resolution`), and the fetch
 * belongs to that invocation. Each call waits in its own invocation's pool, found from the call's async
 * context (lib/connections.ts `invocationPool`).
 */
export function createDeps(env: Env, isolate: IsolateState = newIsolateState()): Deps {
  const connections = createConnectionPool();
  let providers: ProviderTarget[] | undefined;
  return {
    redis: storeClient(env, isolate),
    connections,
    // The gateway owns retries and per-attempt timeouts; the SDK's own are 2 retries and 10 minutes.
    // Built on first use: an SDK client is a tenth of a millisecond of CPU, and a cache hit needs none.
    // A function, not a getter: an object literal's getter (a new closure on every request) is kept by
    // V8, with all it reaches, past young-generation collections until a full one
    // (scripts/lint/literal-accessor.grit); and a copy (`{ ...deps }`) keeps a function, not a getter.
    providers: () => {
      providers ??= createProviderTargets(env, connections);
      return providers;
    },
    now,
    newId,
    sleep,
    random: Math.random,
    ratelimitCache: isolate.ratelimitCache,
    keyRecords: isolate.keyRecords,
    accountDigests: isolate.accountDigests,
    metricsBuffer: isolate.metricsBuffer,
    settleBatch: isolate.settleBatch,
    admission: isolate.admission,
  };
}

function storeClient(env: Env, isolate: IsolateState): Redis {
  let redis = isolate.redisClients.get(env);
  if (redis) return redis;
  redis = new Redis({
    url: env.UPSTASH_REDIS_REST_URL,
    token: env.UPSTASH_REDIS_REST_TOKEN,
    // `retry: false` still makes two attempts; 0 retries means exactly one, and callers decide.
    retry: { retries: 0 },
    // Only for what lib/store-transport.ts leaves to the SDK's own client (a stream): never, today. A
    // fresh signal per request: a static one fails silently once it has fired.
    signal: () => AbortSignal.timeout(env.REDIS_TIMEOUT_MS),
    enableTelemetry: false,
    // Our values are UTF-8 text: base64 answers would only cost a decode per response.
    responseEncoding: false,
    // Batched below the commands instead (lib/store-batch.ts), without a Pipeline object per batch.
    enableAutoPipelining: false,
  });
  // Sent by our own REST request (lib/store-transport.ts).
  redis.use(
    restTransport({
      url: env.UPSTASH_REDIS_REST_URL,
      token: env.UPSTASH_REDIS_REST_TOKEN,
      timeoutMs: env.REDIS_TIMEOUT_MS,
    }),
  );
  const { storeLoad } = isolate;
  // Timed from when it is sent: a call waiting for one of the invocation's connections is not slow. A
  // call outside any invocation's pool (an error rendered before its request entered the pool, a test
  // driving a module alone) is sent at once.
  redis.use((req, next) => {
    const send = () => storeLoad.run(() => next(req));
    const pool = invocationPool();
    return pool ? pool.run(send, null, 'store') : send();
  });
  if (isolate.storeMiddleware) redis.use(isolate.storeMiddleware);
  redis.use(batchCommands());
  isolate.redisClients.set(env, redis);
  return redis;
}
