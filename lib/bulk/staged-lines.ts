/**
 * A finished batch's lines as the collector needs them, staged in Redis once (a hash per job: item
 * index → its outcome) so that each cron run reads only its own chunk's lines instead of downloading
 * both files again. Written in requests of at most CHUNK_BYTES (Upstash refuses requests over 1 MB),
 * awaited one by one so no more than one request's worth is held; cleared when the job finishes, and
 * expires with the job's other keys. Fails closed like the job store: every method rejects when Redis does.
 */
import type { Redis } from '../store';
import { redisKey } from '../store';
import type { LineOutcome } from './lines';

const CHUNK_BYTES = 512 * 1024;
const linesKey = (id: string) => redisKey('bulk', 'lines', id);

export type StagedLinesRedis = Pick<Redis, 'hset' | 'hmget' | 'expire' | 'del' | 'pipeline'>;

export interface StagedLinesOptions {
  /** How long staged lines are kept at most (the job's running keys' lifetime). */
  ttlSeconds: number;
}

export function createStagedLines(redis: StagedLinesRedis, options: StagedLinesOptions) {
  return {
    /**
     * A writer for job `id`'s lines: `add` buffers one and sends a request once CHUNK_BYTES are
     * buffered; `flush` sends the rest. Writing a line again overwrites it, so staging can be repeated.
     */
    writer(id: string) {
      let fields: Record<string, LineOutcome> = {};
      let bytes = 0;
      const flush = async () => {
        if (!bytes) return;
        const sending = fields;
        fields = {};
        bytes = 0;
        await redis.pipeline().hset(linesKey(id), sending).expire(linesKey(id), options.ttlSeconds).exec();
      };
      return {
        async add(index: string, outcome: LineOutcome) {
          const size = index.length + JSON.stringify(outcome).length + 8;
          if (bytes > 0 && bytes + size > CHUNK_BYTES) await flush();
          fields[index] = outcome;
          bytes += size;
        },
        flush,
      };
    },

    /** The staged outcomes of indexes `[from, to)`; null where the batch has no line. */
    async read(id: string, from: number, to: number): Promise<(LineOutcome | null)[]> {
      const indexes = Array.from({ length: Math.max(0, to - from) }, (_, i) => String(from + i));
      if (!indexes.length) return [];
      const raw = await redis.hmget<Record<string, LineOutcome | null>>(linesKey(id), ...indexes);
      return indexes.map((index) => raw?.[index] ?? null);
    },

    /** Forgets job `id`'s lines (it is collected). */
    async clear(id: string): Promise<void> {
      await redis.del(linesKey(id));
    },
  };
}

export type StagedLines = ReturnType<typeof createStagedLines>;
