/**
 * Bulk job records in Redis. Per job: a hash of its record (lib/bulk/job.ts), a hash of its submitted
 * items (index → cache key and moderated text, deleted when it is collected) and a hash of its results
 * (index → result). Running jobs sit in one sorted set scored by when they were last polled, so every
 * poll serves the longest-waiting jobs first.
 *
 * Upstash refuses requests over 1 MB, and the store's batching would send a large job's writes as one
 * request, so item writes are split into chunks of at most CHUNK_BYTES, awaited one by one. The job's
 * record is written last, with the last chunk, in one MULTI: a job exists only once all of it does,
 * and a job that fits one chunk is written in one round trip.
 * Fails closed: every method rejects when Redis does; callers decide what that means.
 */
import type { Redis } from '../store';
import { redisKey } from '../store';
import {
  type CollectState,
  type ItemResult,
  type JobInfo,
  JobRecord,
  type JobStatus,
  type Settled,
  StoredItem,
} from './job';

const CHUNK_BYTES = 512 * 1024;
const jobKey = (id: string) => redisKey('bulk', 'job', id);
const itemsKey = (id: string) => redisKey('bulk', 'items', id);
const resultsKey = (id: string) => redisKey('bulk', 'results', id);
const lockKey = (id: string) => redisKey('bulk', 'lock', id);

/** A running job's keys outlive the Batch API's 24 h window and its collection by this much. */
export const RUNNING_TTL_SECONDS = 3 * 86_400;

export type JobsRedis = Pick<
  Redis,
  'hset' | 'hmget' | 'zadd' | 'zrange' | 'zrem' | 'expire' | 'set' | 'del' | 'multi' | 'pipeline'
>;

export interface NewJob {
  info: JobInfo;
  status: JobStatus;
  /** Submitted items, by index. */
  items: Map<number, StoredItem>;
  /** Results known at submission (items refused there), by index. */
  results: ItemResult[];
  collect: CollectState;
  /** Not running (nothing was submitted): the job is final at once. */
  settled?: Settled;
}

export interface JobStoreOptions {
  /** How long a finished job's record and results are kept. */
  resultsTtlSeconds: number;
  now: () => number;
  /** The sorted set of running jobs, under `bulk:`; tests keep their own. @default 'running' */
  queue?: string;
}

export function createJobStore(redis: JobsRedis, options: JobStoreOptions) {
  const { resultsTtlSeconds, now } = options;
  const queueKey = redisKey('bulk', options.queue ?? 'running');
  const keepRunning = RUNNING_TTL_SECONDS + resultsTtlSeconds;

  return {
    /** Stores a new job (and, unless it is already final, marks it running). */
    async create(job: NewJob): Promise<void> {
      const id = job.info.id;
      const groups = chunked([
        ...[...job.items].map(([i, item]) => [itemsKey(id), String(i), item] as const),
        ...job.results.map((r) => [resultsKey(id), String(r.index), r] as const),
      ]);
      const last = groups.pop() ?? new Map();
      // HSETs issued in one tick travel in one batched request: one request per group.
      for (const group of groups)
        await Promise.all([...group].map(([key, fields]) => redis.hset(key, fields)));
      const tx = redis.multi();
      for (const [key, fields] of last) tx.hset(key, fields);
      tx.hset(jobKey(id), {
        job: job.info,
        status: job.status,
        collect: job.collect,
        ...(job.settled ? { settled: job.settled } : {}),
      });
      const ttl = job.settled ? resultsTtlSeconds : keepRunning;
      for (const key of [jobKey(id), itemsKey(id), resultsKey(id)]) tx.expire(key, ttl);
      if (!job.settled) tx.zadd(queueKey, { score: now(), member: id });
      await tx.exec();
    },

    /**
     * The record and the results of indexes `[offset, offset + limit)`, in one round trip: an explicit
     * pipeline, so the pair never depends on when the commands are issued. Null when there is no such job.
     */
    async read(id: string, page = { offset: 0, limit: 0 }) {
      const fields = Array.from({ length: page.limit }, (_, i) => String(page.offset + i));
      const pipeline = redis.pipeline().hgetall(jobKey(id));
      if (fields.length) pipeline.hmget(resultsKey(id), ...fields);
      const [raw, results] = await pipeline.exec<[unknown, Record<string, ItemResult | null> | null]>();
      if (!raw) return null;
      return { record: JobRecord.parse(raw), results: fields.map((f) => results?.[f] ?? null) };
    },

    /** Changes fields of the record written by one party (status, progress, batch, settled). */
    async update(
      id: string,
      fields: Partial<Pick<JobRecord, 'status' | 'progress' | 'batch'>>,
    ): Promise<void> {
      await redis.hset(jobKey(id), fields);
    },

    /** Up to `limit` running job ids, least recently polled first. */
    running: (limit: number) => redis.zrange<string[]>(queueKey, 0, limit - 1),

    /** Moves a running job to the back of the queue. */
    async touch(id: string): Promise<void> {
      await redis.zadd(queueKey, { xx: true }, { score: now(), member: id });
    },

    /** The stored items of indexes `[from, to)`; null for an index refused at submission. */
    async items(id: string, from: number, to: number): Promise<(StoredItem | null)[]> {
      const fields = Array.from({ length: Math.max(0, to - from) }, (_, i) => String(from + i));
      if (!fields.length) return [];
      const raw = await redis.hmget<Record<string, unknown>>(itemsKey(id), ...fields);
      return fields.map((f) => (raw?.[f] ? StoredItem.parse(raw[f]) : null));
    },

    /** Stores a chunk of results and the collector's state after it, atomically. */
    async saveCollected(id: string, results: ItemResult[], collect: CollectState): Promise<void> {
      const tx = redis.multi();
      if (results.length)
        tx.hset(resultsKey(id), Object.fromEntries(results.map((r) => [String(r.index), r])));
      tx.hset(jobKey(id), { collect });
      await tx.exec();
    },

    /** Marks the job final: its status and cost, out of the running set, items dropped, results kept. */
    async finish(id: string, status: JobStatus, settled: Settled): Promise<void> {
      const tx = redis.multi();
      tx.hset(jobKey(id), { status, settled });
      tx.zrem(queueKey, id);
      tx.del(itemsKey(id));
      tx.expire(jobKey(id), resultsTtlSeconds);
      tx.expire(resultsKey(id), resultsTtlSeconds);
      await tx.exec();
    },

    /** Forgets a running id whose record is gone (expired). */
    async drop(id: string): Promise<void> {
      await redis.zrem(queueKey, id);
    },

    /**
     * Takes the job's lock for `ttlMs` (SET NX PX), so overlapping polls never work on one job at once.
     * Returns its release, or null when another poll holds it.
     */
    async lock(id: string, ttlMs: number, token: string): Promise<(() => Promise<void>) | null> {
      const takenAt = now();
      const taken = await redis.set(lockKey(id), token, { nx: true, px: ttlMs });
      if (taken !== 'OK') return null;
      // Without a compare-and-delete script, only delete while the lock is surely still ours: a lock
      // held past its TTL may belong to another poll by now, and it expires on its own anyway.
      return async () => {
        if (now() - takenAt < ttlMs - LOCK_MARGIN_MS) await redis.del(lockKey(id));
      };
    },
  };
}

export type JobStore = ReturnType<typeof createJobStore>;

const LOCK_MARGIN_MS = 5_000;

const utf8 = new TextEncoder();

type HashWrites = Map<string, Record<string, unknown>>;

/** Groups `[key, field, value]` hash entries into writes of at most CHUNK_BYTES of UTF-8 JSON each. */
function chunked(entries: (readonly [string, string, unknown])[]): HashWrites[] {
  const groups: HashWrites[] = [];
  let current: HashWrites = new Map();
  let size = 0;
  for (const [key, field, value] of entries) {
    const bytes = field.length + utf8.encode(JSON.stringify(value)).length + 8;
    if (size > 0 && size + bytes > CHUNK_BYTES) {
      groups.push(current);
      current = new Map();
      size = 0;
    }
    const fields = current.get(key) ?? {};
    fields[field] = value;
    current.set(key, fields);
    size += bytes;
  }
  if (size > 0) groups.push(current);
  return groups;
}
