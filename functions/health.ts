import { Hono } from 'hono';
import type { AppEnv } from '../lib/app-env';
import { presentsAdminKey } from '../lib/caller';
import { pingStore } from '../lib/store';
import pkg from '../package.json';

/** `GET /health` without the admin key: the Worker answers, nothing more (no Redis, no configuration). */
export interface PublicHealthResponse {
  status: 'ok';
  version: string;
}

/** `GET /health` with the admin key. Names what is configured, never a secret. */
export interface HealthResponse {
  status: 'ok' | 'degraded';
  store: { ok: boolean; latency_ms: number; mode: Mode };
  provider: { name: 'openai'; base_url: string; mode: Mode };
  models: { text: string; image: string; moderation: string; embeddings: string; vision: string };
}

/** `local` is a service on this machine (the dev bridge or simulator); `remote` anything else. */
type Mode = 'local' | 'remote';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const modeOf = (url: string): Mode => (LOCAL_HOSTS.has(new URL(url).hostname) ? 'local' : 'remote');

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * Liveness for anyone: `{status: 'ok', version}`, with no Redis command and nothing about the
 * configuration, so a probe (or a flood of them) costs nothing and learns nothing (#16). With the
 * admin key: one Redis round trip and what is configured, 200 when shared state answers, 503 when it
 * does not. Any other bearer, a client key included, gets the public answer: telling a client key from
 * a wrong one would itself cost a Redis lookup.
 */
export const health = new Hono<AppEnv>().get('/health', async (c) => {
  if (!(await presentsAdminKey(c))) {
    const body: PublicHealthResponse = { status: 'ok', version: pkg.version };
    return c.json(body, 200, NO_STORE);
  }
  const env = c.get('env');
  const { redis, now } = c.get('deps');
  const store = await pingStore(redis, now);
  const body: HealthResponse = {
    status: store.ok ? 'ok' : 'degraded',
    store: { ok: store.ok, latency_ms: store.latencyMs, mode: modeOf(env.UPSTASH_REDIS_REST_URL) },
    provider: { name: 'openai', base_url: env.OPENAI_BASE_URL, mode: modeOf(env.OPENAI_BASE_URL) },
    models: {
      text: env.OPENAI_TEXT_MODEL,
      image: env.OPENAI_IMAGE_MODEL,
      moderation: env.OPENAI_MODERATION_MODEL,
      embeddings: env.OPENAI_EMBEDDING_MODEL,
      vision: env.OPENAI_VISION_MODEL,
    },
  };
  if (!store.ok) c.get('log').warn('health: store unreachable', { latency_ms: store.latencyMs });
  return c.json(body, store.ok ? 200 : 503, NO_STORE);
});
