import OpenAI from 'openai';
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
  const primary: ProviderTarget = {
    name: 'openai',
    client: new OpenAI({
      apiKey: env.OPENAI_API_KEY,
      baseURL: env.OPENAI_BASE_URL,
      maxRetries: 0,
      ...options,
    }),
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
  };
  const backups = env.backups.map(
    (backup): ProviderTarget => ({
      name: backup.name,
      client: new OpenAI({ apiKey: backup.apiKey, baseURL: backup.base_url, maxRetries: 0, ...options }),
      api: 'chat',
      structuredOutputs: backup.structured_outputs,
      models: backup.models,
      timeoutsMs,
      ...pooled,
    }),
  );
  return [primary, ...backups];
}

const scoped = new WeakMap<OpenAI, Map<number, OpenAI>>();

/**
 * `target` as it serves `capability`: its client with that capability's per-attempt timeout (an image
 * may take minutes, a moderation must not), and that timeout, if it has one.
 */
export function targetFor(
  target: ProviderTarget,
  capability: Capability,
): { target: ProviderTarget; timeoutMs?: number } {
  const timeoutMs = target.timeoutsMs?.[capability];
  if (timeoutMs === undefined) return { target };
  const byTimeout = scoped.get(target.client) ?? new Map<number, OpenAI>();
  scoped.set(target.client, byTimeout);
  const client =
    byTimeout.get(timeoutMs) ?? target.client.withOptions(clientOptions(timeoutMs, target.connections));
  byTimeout.set(timeoutMs, client);
  return { target: { ...target, client }, timeoutMs };
}

/**
 * `target` with every call naming the gateway's request in `x-client-request-id`: OpenAI logs it with
 * the call, so its usage (and a support case) can be matched to the gateway's request and ledger.
 */
export function tagged(target: ProviderTarget, requestId: string | undefined): ProviderTarget {
  if (!requestId) return target;
  return {
    ...target,
    client: target.client.withOptions({ defaultHeaders: { [REQUEST_ID_HEADER]: requestId } }),
  };
}

/** The header OpenAI reads a caller's own request id from (ASCII, at most 512 characters). */
export const REQUEST_ID_HEADER = 'x-client-request-id';

/** Every breaker the providers use: one per provider and model, named as the router names them. */
export function breakerNames(targets: ProviderTarget[]): string[] {
  return [...new Set(targets.flatMap((t) => Object.values(t.models).map((model) => `${t.name}:${model}`)))];
}
