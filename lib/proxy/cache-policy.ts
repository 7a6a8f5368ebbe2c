/**
 * Which proxied answers are cached, and under what key. Only answers that a repeat would reproduce:
 * chat and responses at `temperature: 0`, embeddings and moderations always (deterministic models), or
 * any of them when the client opts in with `x-gateway-cache: on`. Images are never cached (megabytes
 * of base64 do not belong in Redis); errors and streams that did not complete never are.
 */
import type { CacheKeyParts } from '../cache';

/** `read-write`: look up, then store; `write-only`: skip the read (`cache-control: no-cache`), store; `off`. */
export type CacheMode = 'read-write' | 'write-only' | 'off';

/**
 * `deterministic`: answers depend only on the request (embeddings, moderations); `sampled`: cached at
 * temperature 0 or on request (chat, responses); `never` (images).
 */
export type CachePolicy = 'deterministic' | 'sampled' | 'never';

export interface CacheRequest {
  body: Record<string, unknown>;
  policy: CachePolicy;
  /** The `x-gateway-cache` header: `on` opts in, `off` opts out. */
  optIn: string | undefined;
  /** The client sent `cache-control: no-cache`. */
  noCache: boolean;
}

export function cacheModeOf({ body, policy, optIn, noCache }: CacheRequest): CacheMode {
  const choice = optIn?.trim().toLowerCase();
  if (policy === 'never' || choice === 'off') return 'off';
  if (!(policy === 'deterministic' || body.temperature === 0 || choice === 'on')) return 'off';
  return noCache ? 'write-only' : 'read-write';
}

/**
 * The cache key parts of a request to `path`: the whole body as sent (after the gateway's output cap),
 * keys sorted at every depth and strings hashed exactly, since case and spacing change a prompt.
 */
export function proxyCacheKeyParts(
  path: string,
  body: Record<string, unknown>,
): Omit<CacheKeyParts, 'namespace'> {
  return {
    kind: `openai${path.replaceAll('/', '.')}`,
    version: 'v1',
    fields: body,
    exactFields: Object.keys(body),
  };
}
