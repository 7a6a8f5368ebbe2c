import OpenAI, { type ClientOptions } from 'openai';
import type { Capability } from '../capabilities';
import { type ConnectionPool, QUEUED_CALL_BACKSTOP_MS } from '../connections';
import type { Env } from '../env';
import { timeoutsOf } from './timeouts';

/** One provider the gateway can call, primary or backup, behind the OpenAI SDK. */
export interface ProviderTarget {
  /** `openai` for the primary; the configured name for a backup. Used in headers, metrics, breaker keys. */
  name: string;
  client: OpenAI;
  /** The primary speaks the Responses API; OpenAI-compatible backups speak Chat Completions. */
  api: 'responses' | 'chat';
  /** Honours a JSON schema natively; otherwise the schema goes into the prompt. */
  structuredOutputs: boolean;
  models: Partial<Record<Capability, string>>;
  /** Per-attempt timeout by capability (ms), replacing the client's own for calls of that capability. */
  timeoutsMs?: Partial<Record<Capability, number>>;
  /** The invocation's connection pool its calls wait in; their timeouts then start when they are sent. */
  connections?: ConnectionPool;
  /**
   * A client of this target with `extra` options, built straight from the target's own options: an
   * attempt's client (its timeout, its request id) without building the base client first.
   */
  clientWith?: (extra: ClientOptions) => OpenAI;
  /** What its client sends with, for a call that relays a body as it is (lib/proxy/upstream.ts). */
  endpoint?: Endpoint;
}

/**
 * A target's address, key and extra headers, and how one attempt sends: through the invocation's pool
 * with the attempt's timeout (`fetch`), or, without a pool, plain `fetch` aborted after `timeoutMs`.
 */
export interface Endpoint {
  baseURL: string;
  apiKey: string;
  headers: Record<string, string>;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * `target` with `client` built on first use: a request builds the clients it calls and no others (a
 * backup's only on failover). Not enumerable, so spreading the target does not build it either.
 */
function lazyTarget(
  target: Omit<ProviderTarget, 'client' | 'clientWith' | 'endpoint'>,
  options: ClientOptions & { apiKey: string; baseURL: string },
): ProviderTarget {
  let client: OpenAI | undefined;
  const built = withLazyClient({ ...target }, () => (client ??= new OpenAI(options)));
  built.endpoint = {
    baseURL: options.baseURL,
    apiKey: options.apiKey,
    headers: {},
    ...(options.fetch ? { fetch: options.fetch } : { timeoutMs: options.timeout }),
  };
  built.clientWith = (extra) =>
    new OpenAI({
      ...options,
      ...extra,
      defaultHeaders: { ...options.defaultHeaders, ...extra.defaultHeaders },
    });
  return built;
}

/** SDK options for a call with `timeoutMs` per attempt: through `connections` when there is a pool. */
function clientOptions(timeoutMs: number, connections: ConnectionPool | undefined) {
  if (!connections) return { timeout: timeoutMs };
  return { timeout: QUEUED_CALL_BACKSTOP_MS, fetch: connections.fetch(timeoutMs) };
}

/**
 * The primary (OpenAI) followed by the configured backups, in order. Every client has the SDK's own
 * retries off, so the gateway counts each attempt once, and a per-attempt timeout.
 */
export function createProviderTargets(env: Env, connections?: ConnectionPool): ProviderTarget[] {
  const timeoutsMs = timeoutsOf(env);
  const options = clientOptions(timeoutsMs.text, connections);
  const pooled = connections ? { connections } : {};
  const primary = lazyTarget(
    {
      name: 'openai',
      api: 'responses',
      structuredOutputs: true,
      models: {
        text: env.OPENAI_TEXT_MODEL,
        vision: env.OPENAI_VISION_MODEL,
        image: env.OPENAI_IMAGE_MODEL,
        embeddings: env.OPENAI_EMBEDDING_MODEL,
        moderation: env.OPENAI_MODERATION_MODEL,
      },
      timeoutsMs,
      ...pooled,
    },
    { apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL, maxRetries: 0, ...options },
  );
  const backups = env.backups.map((backup) =>
    lazyTarget(
      {
        name: backup.name,
        api: 'chat',
        structuredOutputs: backup.structured_outputs,
        models: backup.models,
        timeoutsMs,
        ...pooled,
      },
      { apiKey: backup.apiKey, baseURL: backup.base_url, maxRetries: 0, ...options },
    ),
  );
  return [primary, ...backups];
}

/**
 * `target` as one attempt of a `capability` call uses it: a client with that capability's per-attempt
 * timeout (an image may take minutes, a moderation must not) and naming the gateway's request in
 * `x-client-request-id` (OpenAI logs it with the call, so its usage and a support case meet the ledger),
 * built in one go; and that timeout, if it has one.
 */
export function attemptTarget(
  target: ProviderTarget,
  capability: Capability,
  requestId?: string,
): { target: ProviderTarget; timeoutMs?: number } {
  const timeoutMs = target.timeoutsMs?.[capability];
  const extra: ClientOptions = {
    ...(timeoutMs === undefined ? {} : clientOptions(timeoutMs, target.connections)),
    ...(requestId ? { defaultHeaders: { [REQUEST_ID_HEADER]: requestId } } : {}),
  };
  if (!Object.keys(extra).length) return { target };
  // Its client is built on first use too: a proxied call relays through `endpoint` and needs none.
  let client: OpenAI | undefined;
  const attempt = withLazyClient(
    { ...target, clientWith: undefined },
    () => (client ??= target.clientWith ? target.clientWith(extra) : target.client.withOptions(extra)),
  );
  if (target.endpoint) {
    attempt.endpoint = {
      ...target.endpoint,
      headers: { ...target.endpoint.headers, ...(requestId ? { [REQUEST_ID_HEADER]: requestId } : {}) },
      ...(extra.fetch ? { fetch: extra.fetch } : {}),
      ...(extra.timeout === undefined || extra.fetch ? {} : { timeoutMs: extra.timeout }),
    };
  }
  return timeoutMs === undefined ? { target: attempt } : { target: attempt, timeoutMs };
}

/** `target` with `client` built by `build` on first read; a spread neither builds nor copies it. */
function withLazyClient(target: Omit<ProviderTarget, 'client'>, build: () => OpenAI): ProviderTarget {
  return new LazyClientTarget(target, build) as unknown as ProviderTarget;
}

// The getter on a prototype, not defined on each object: defineProperty on every request's targets and
// attempts turned them into slow dictionary objects (1.4 % of a proxied call's profile).
class LazyClientTarget {
  readonly #build: () => OpenAI;
  constructor(target: Omit<ProviderTarget, 'client'>, build: () => OpenAI) {
    // Every field but a `client` the object came with (a plain target spread): this one builds its own.
    for (const key of Object.keys(target)) {
      if (key !== 'client') (this as Record<string, unknown>)[key] = (target as Record<string, unknown>)[key];
    }
    this.#build = build;
  }
  get client(): OpenAI {
    return this.#build();
  }
}

/** The header OpenAI reads a caller's own request id from (ASCII, at most 512 characters). */
export const REQUEST_ID_HEADER = 'x-client-request-id';

/** Every breaker the providers use: one per provider and model, named as the router names them. */
export function breakerNames(targets: ProviderTarget[]): string[] {
  return [...new Set(targets.flatMap((t) => Object.values(t.models).map((model) => `${t.name}:${model}`)))];
}
