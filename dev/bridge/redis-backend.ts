import { Redis, ReplyError } from 'ioredis';
import { type Backend, type BackendMode, type Outcome, RedisReplyError, type Reply } from './backend.ts';

/** What ioredis hands back with `callBuffer` and `stringNumbers`: integers as strings, bulk as Buffers. */
type RawReply = null | string | Buffer | Error | RawReply[];

/**
 * A backend in front of a real Redis. Commands go through `callBuffer` so bulk replies stay binary-safe,
 * and `stringNumbers` keeps integers exact.
 */
export async function createRedisBackend(redisUrl: string, mode: BackendMode): Promise<Backend> {
  const redis = new Redis(redisUrl, {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 2,
    stringNumbers: true,
  });
  // ioredis emits 'error' on every failed reconnect; without a listener Node would print each one.
  redis.on('error', () => {});
  try {
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${redisUrl}: ${(error as Error).message}`);
  }

  return {
    mode,
    redisUrl,
    async call([name = '', ...args]) {
      try {
        return toReply((await redis.callBuffer(wireName(name), ...args)) as RawReply);
      } catch (error) {
        throw isReplyError(error) ? new RedisReplyError(error.message) : error;
      }
    },
    async transaction(commands) {
      const multi = redis.multi();
      for (const [name = '', ...args] of commands) multi.callBuffer(wireName(name), ...args);
      try {
        const replies = (await multi.exec()) ?? [];
        return { outcomes: replies.map(([error, reply]): Outcome => toOutcome(error, reply as RawReply)) };
      } catch (error) {
        if (!isReplyError(error) || !error.message.startsWith('EXECABORT')) throw error;
        return { aborted: describeAbort(error) };
      }
    },
    async close() {
      // QUIT waits for a reply, which never comes while Redis is down and ioredis is reconnecting.
      if (redis.status === 'ready') await redis.quit().catch(() => {});
      redis.disconnect();
    },
  };
}

// ioredis turns an `hgetall` reply into an object; its reply transformers are keyed on the exact
// lower-case name, so an upper-case name gets the raw array. Other names go as sent, so Redis errors
// quote them as the client wrote them.
function wireName(name: string): string {
  return name.toLowerCase() === 'hgetall' ? 'HGETALL' : name;
}

// ioredis types ReplyError as `any`, so `instanceof` alone does not narrow.
function isReplyError(error: unknown): error is Error {
  return error instanceof ReplyError;
}

function toOutcome(error: Error | null, reply: RawReply): Outcome {
  return error ? { error: error.message } : { result: toReply(reply) };
}

function toReply(raw: RawReply): Reply {
  if (typeof raw === 'string') return BigInt(raw);
  if (Array.isArray(raw)) return raw.map(toReply);
  return raw;
}

// Redis answers EXEC with a bare "EXECABORT … previous errors."; name the first queueing error too.
function describeAbort(error: Error): string {
  const previous = (error as Error & { previousErrors?: Error[] }).previousErrors?.[0];
  return previous ? `${error.message} First error: ${previous.message}` : error.message;
}
