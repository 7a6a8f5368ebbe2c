/**
 * The bad-input drill's flood: thousands of requests, 50 at a time, that no key admits (no key, a
 * malformed key, a well-formed key nobody issued, a revoked key) over every protected route, with bodies
 * good and bad. Each must get `401 invalid_api_key`, and the flood must cost Redis no write: counted by
 * Redis itself (redis-commands.ts), one key category at a time, so the reads each category costs are
 * exact. Targets: no write; no read for a missing or malformed key; one key lookup for a well-formed one.
 *
 * The revoked key served a request before it was revoked, as a real one has, so the isolate remembers it
 * (lib/guards.ts admits a key it has seen in one round trip, its rate limit beside its lookup). The first
 * request after the revocation is measured on its own: it is the one that finds out.
 */
import { randomBytes } from 'node:crypto';
import { createRng, type Rng } from '../../dev/openai-sim/rng.ts';
import { bridgeStats, pool } from '../lib/client.ts';
import { CORPUS_ROUTES, invalidUtf8, setPath } from './bad-input-corpus.ts';
import type { RouteSpec } from './bad-input-routes.ts';
import { byStatus, type DrillStack, gw, percentile, sleep } from './harness.ts';
import { errorCode, isTypedError, type Reply, send } from './http.ts';
import { openRedisCounter, type RedisCost, type RedisCounter } from './redis-commands.ts';

/** How the flood's requests (fail to) name a key. */
export type KeyKind = 'none' | 'malformed' | 'unknown' | 'revoked';
const KINDS: KeyKind[] = ['none', 'malformed', 'unknown', 'revoked'];
/** Key lookups (reads) a request of each kind may cost. */
const READS_ALLOWED: Record<KeyKind, number> = { none: 0, malformed: 0, unknown: 1, revoked: 1 };

/** One category's run: its answers and what it cost Redis (and the bridge, in Upstash requests). */
export interface FloodPhase {
  requests: number;
  by_status: Record<string, number>;
  p50_ms: number;
  p99_ms: number;
  redis: RedisCost & { reads_per_request: number; key_lookups_per_request: number };
  upstash_requests: number;
}

export interface FloodResult {
  requests: number;
  connections: number;
  routes: number;
  /** Time spent sending (the quiet waits between categories left out). */
  duration_s: number;
  p50_ms: number;
  p99_ms: number;
  /** Answers other than `401 invalid_api_key` with the gateway's body, listed (at most 10). */
  wrong: string[];
  wrong_count: number;
  /**
   * Typed `503 store_unavailable` answers: a key lookup that took longer than REDIS_TIMEOUT_MS under the
   * flood's load, refused closed (the documented answer when Redis cannot check a key). Not in `wrong`.
   */
  unchecked: number;
  phases: Record<KeyKind, FloodPhase>;
  /** The revoked key's first request after its revocation, measured alone. */
  revoked_first_request: RedisCost & { status: number };
  /** Redis while nothing was sent, just before the flood (target: nothing). */
  idle: RedisCost;
}

/** Floods the gateway with `requests` unauthenticated requests, `connections` at a time. */
export async function unauthenticatedFlood(
  stack: DrillStack,
  { requests, connections = 50, log }: { requests: number; connections?: number; log: (s: string) => void },
): Promise<FloodResult> {
  const routes = CORPUS_ROUTES.filter((r) => r.access !== 'public');
  const rng = createRng('bad-input flood');
  const revoked = await usedThenRevokedKey(stack);
  const redis = await openRedisCounter(stack.redisUrl);
  try {
    // Longer than the isolate holds metrics: the key set-up's requests left theirs buffered, and their
    // write must land before the first category is counted, not inside it (one did, in 'none').
    const idle = await quiet(redis, stack.metricsFlushMs + 1000);
    const phases = {} as Record<KeyKind, FloodPhase>;
    const wrong: string[] = [];
    const latencies: number[] = [];
    let wrongCount = 0;
    let unchecked = 0;
    let revokedFirst: FloodResult['revoked_first_request'] | undefined;
    let sendingMs = 0;
    for (const kind of KINDS) {
      if (kind === 'revoked') revokedFirst = await firstRequestAfterRevocation(stack, redis, revoked);
      const asks = Array.from({ length: Math.round(requests / KINDS.length) }, () =>
        floodRequest(rng, rng.pick(routes), kind, revoked),
      );
      await quiet(redis);
      const before = await redis.snapshot();
      const bridgeBefore = await bridgeStats(stack);
      const started = performance.now();
      const replies = await pool(asks, connections, (a) => send(`${stack.gatewayUrl}${a.path}`, a));
      const ms = replies.map((r) => r.ms);
      sendingMs += performance.now() - started;
      await sleep(500); // anything the requests left in waitUntil
      const cost = await redis.diff(before, await redis.snapshot());
      const bridgeAfter = await bridgeStats(stack);
      latencies.push(...ms);
      replies.forEach((r, i) => {
        if (isUnauthenticated(r)) return;
        if (r.status === 503 && errorCode(r) === 'store_unavailable') {
          unchecked++;
          return;
        }
        wrongCount++;
        if (wrong.length < 10) wrong.push(`${kind} ${asks[i]?.method} ${asks[i]?.path} → ${describe(r)}`);
      });
      phases[kind] = {
        requests: asks.length,
        by_status: byStatus(replies),
        p50_ms: percentile(ms, 0.5),
        p99_ms: percentile(ms, 0.99),
        redis: {
          ...cost,
          reads_per_request: round(cost.reads / asks.length),
          key_lookups_per_request: round((cost.by_command.hmget?.calls ?? 0) / asks.length),
        },
        upstash_requests: bridgeAfter.requests - bridgeBefore.requests,
      };
      log(
        `bad-input flood: ${kind} key × ${asks.length}: ${JSON.stringify(phases[kind].by_status)} ` +
          `(p50 ${phases[kind].p50_ms} ms, p99 ${phases[kind].p99_ms} ms); ` +
          `Redis ${cost.writes} writes, ${cost.reads} reads (${phases[kind].redis.key_lookups_per_request} key lookups a request)`,
      );
    }
    return {
      requests: KINDS.reduce((n, k) => n + phases[k].requests, 0),
      connections,
      routes: routes.length,
      duration_s: round(sendingMs / 1000),
      p50_ms: percentile(latencies, 0.5),
      p99_ms: percentile(latencies, 0.99),
      wrong,
      wrong_count: wrongCount,
      unchecked,
      phases,
      revoked_first_request: revokedFirst as FloodResult['revoked_first_request'],
      idle,
    };
  } finally {
    await redis.close();
  }
}

/** What the flood missed, as the drill's `lost` counts (target: all 0). */
export function floodLosses(flood: FloodResult) {
  const phases = KINDS.map((kind) => [kind, flood.phases[kind]] as const);
  return {
    flood_not_401: flood.wrong_count,
    flood_redis_writes: phases.reduce((n, [, p]) => n + p.redis.writes, 0),
    flood_redis_reads_over_target: phases.reduce(
      (n, [kind, p]) => n + Math.max(0, p.redis.reads - READS_ALLOWED[kind] * p.requests),
      0,
    ),
  };
}

/** A request of the flood: a protected route, a key of `kind`, and (for a POST) a body good or bad. */
function floodRequest(rng: Rng, spec: RouteSpec, kind: KeyKind, revoked: string) {
  const headers: Record<string, string> = { ...authHeaders(rng, kind, revoked) };
  // A variant nobody configured must not be named to an unknown caller either.
  if (rng.next() < 0.3) headers['x-gateway-variant'] = 'zz';
  if (spec.method !== 'POST') return { method: spec.method, path: spec.path, headers };
  headers['content-type'] = 'application/json';
  return { method: spec.method, path: spec.path, headers, body: rng.pick(bodies(rng, spec)) };
}

/** Bodies for a POST route: its valid one (twice as likely), and broken ones the corpus also sends. */
function bodies(rng: Rng, spec: RouteSpec): (string | Uint8Array)[] {
  const valid = JSON.stringify(spec.body ?? {});
  const first = Object.keys(spec.body ?? { x: 1 })[0] as string;
  return [
    valid,
    valid,
    '',
    '{"model":',
    '[]',
    JSON.stringify(setPath(spec.body ?? {}, first, 42)),
    JSON.stringify({ ...spec.body, model: 'gpt-unknown' }),
    JSON.stringify({ ...spec.body, unexpected_field: 1 }),
    `{"a":${'['.repeat(64)}${']'.repeat(64)}}`,
    invalidUtf8(valid.length > 2 ? valid : '{"x":"y"}'),
    Uint8Array.from({ length: rng.int(1, 512) }, () => rng.int(0, 255)),
  ];
}

function authHeaders(rng: Rng, kind: KeyKind, revoked: string): Record<string, string> {
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const shaped = () => `cag_${randomBytes(32).toString('base64url')}`;
  if (kind === 'unknown') return bearer(shaped());
  if (kind === 'revoked') return bearer(revoked);
  const options: Record<Exclude<KeyKind, 'unknown' | 'revoked'>, Record<string, string>[]> = {
    none: [
      {},
      { authorization: 'Bearer ' },
      { authorization: 'Basic ZHJpbGw6ZHJpbGw=' },
      { 'x-api-key': shaped() },
    ],
    malformed: [
      bearer('not-a-key'),
      bearer(shaped().slice(0, -1)),
      bearer(`${shaped()}A`),
      bearer(`cag_${'+'.repeat(43)}`),
      bearer(`sk-${randomBytes(24).toString('hex')}`),
      bearer(`cag_${'x'.repeat(8192)}`),
      { authorization: shaped() },
    ],
  };
  return rng.pick(options[kind]);
}

/** A client key that made a request (so the isolate has seen it), then was revoked. */
async function usedThenRevokedKey(stack: DrillStack): Promise<string> {
  const created = await gw(stack, '/admin/keys', {
    key: stack.adminKey,
    body: { name: 'drill-flood-revoked' },
  });
  const { id, key } = created.body as { id: string; key: string };
  const used = await gw(stack, '/v1/budget', { key });
  const gone = await gw(stack, `/admin/keys/${id}`, { method: 'DELETE', key: stack.adminKey });
  if (used.status !== 200 || gone.status !== 200) {
    throw new Error(`could not use then revoke a key: ${used.status}, ${gone.status}`);
  }
  return key;
}

/** The revoked key's first request since its revocation: a cache-first route, so the worst case. */
async function firstRequestAfterRevocation(stack: DrillStack, redis: RedisCounter, key: string) {
  await quiet(redis);
  const before = await redis.snapshot();
  const reply = await gw(stack, '/v1/opportunities', { key, body: { intent: 'waterproof boots' } });
  await sleep(500);
  return { status: reply.status, ...(await redis.diff(before, await redis.snapshot())) };
}

/**
 * Waits (up to 15 s past `idleMs`) until Redis runs no command for `idleMs` (the work earlier requests
 * left in `waitUntil` is done); returns what that last window cost. Expirations are not commands.
 */
async function quiet(redis: RedisCounter, idleMs = 1000): Promise<RedisCost> {
  const deadline = Date.now() + idleMs + 15_000;
  for (;;) {
    const before = await redis.snapshot();
    await sleep(idleMs);
    const cost = await redis.diff(before, await redis.snapshot());
    if (Object.keys(cost.by_command).length === 0 || Date.now() > deadline) return cost;
  }
}

function isUnauthenticated(r: Reply): boolean {
  return (
    r.status === 401 &&
    isTypedError(r.body) &&
    r.body.error.type === 'authentication_error' &&
    r.body.error.code === 'invalid_api_key' &&
    r.headers.has('x-request-id')
  );
}

const describe = (r: Reply) => `${r.status} ${errorCode(r) ?? (r.error || r.text.slice(0, 60))}`;

const round = (n: number) => Math.round(n * 1000) / 1000;
