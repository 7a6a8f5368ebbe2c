/**
 * What a stretch of traffic cost the real Redis behind the bridge, counted by Redis itself: `INFO
 * commandstats` (per-command calls, the commands a Lua script runs included, so an EVALSHA's HMGET counts
 * as an HMGET) classified by each command's own flags (`COMMAND INFO`: `write`, `readonly`), and
 * `rdb_changes_since_last_save`, the dataset's change counter (persistence is off, so it never resets;
 * Redis's own expirations count there too, so it is a cross-check, not the measure).
 * Exact whatever the client, the bridge or the scripts do; the only other traffic is this reader's.
 *
 * @example
 * const redis = await openRedisCounter(stack.redisUrl);
 * const before = await redis.snapshot();
 * // … traffic …
 * const cost = redis.diff(before, await redis.snapshot()); // { writes, reads, changes, by_command }
 * await redis.close();
 */
import { Redis as IORedis } from 'ioredis';

/** Calls per command name (`hmget`, `evalsha`, `script|load`) and the change counter, at one moment. */
export interface RedisSnapshot {
  calls: Record<string, number>;
  changes: number;
}

/** What happened between two snapshots. */
export interface RedisCost {
  /** Calls of commands flagged `write` (whether or not they changed anything). */
  writes: number;
  /** Calls of commands flagged `readonly`. */
  reads: number;
  /**
   * Changes to the dataset (Redis's dirty counter): a write that changed nothing adds none, a key that
   * expired meanwhile adds one.
   */
  changes: number;
  /** Every command called, with its class, the reader's own INFO and COMMAND INFO left out. */
  by_command: Record<string, { calls: number; kind: 'write' | 'read' | 'other' }>;
}

/** The reader's own commands, left out of every diff. */
const OWN = new Set(['info', 'command|info']);

/** A connection to Redis that counts what other clients made it do. */
export async function openRedisCounter(url: string) {
  const client = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const kinds = new Map<string, 'write' | 'read' | 'other'>();

  async function kindOf(names: string[]): Promise<void> {
    const unknown = names.filter((name) => !kinds.has(name));
    if (!unknown.length) return;
    const infos = (await client.call('COMMAND', 'INFO', ...unknown)) as (unknown[] | null)[];
    unknown.forEach((name, i) => {
      const flags = (infos[i]?.[2] as string[] | undefined) ?? [];
      kinds.set(name, flags.includes('write') ? 'write' : flags.includes('readonly') ? 'read' : 'other');
    });
  }

  return {
    async snapshot(): Promise<RedisSnapshot> {
      const info = (await client.call('INFO', 'commandstats', 'persistence')) as string;
      const calls: Record<string, number> = {};
      for (const [, name, n] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        calls[name as string] = Number(n);
      }
      const changes = Number(/^rdb_changes_since_last_save:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
      return { calls, changes };
    },
    /** The cost between `before` and `after`; looks up the flags of commands it has not seen yet. */
    async diff(before: RedisSnapshot, after: RedisSnapshot): Promise<RedisCost> {
      const called = Object.entries(after.calls)
        .map(([name, n]) => [name, n - (before.calls[name] ?? 0)] as const)
        .filter(([name, n]) => n > 0 && !OWN.has(name));
      await kindOf(called.map(([name]) => name));
      const cost: RedisCost = {
        writes: 0,
        reads: 0,
        changes: after.changes - before.changes,
        by_command: {},
      };
      for (const [name, calls] of called) {
        const kind = kinds.get(name) ?? 'other';
        cost.by_command[name] = { calls, kind };
        if (kind === 'write') cost.writes += calls;
        if (kind === 'read') cost.reads += calls;
      }
      return cost;
    },
    close: () => client.quit().then(() => undefined),
  };
}

export type RedisCounter = Awaited<ReturnType<typeof openRedisCounter>>;
