/**
 * The contract between the HTTP layer and whatever answers Redis commands (a real Redis through ioredis,
 * or the embedded ioredis-mock store). Everything above this file is backend-agnostic.
 */

/**
 * A Redis reply in one canonical shape: bulk and status strings as `Buffer` (binary-safe), integers as
 * `bigint` (exact above 2^53), nil as `null`, multi-bulk as arrays. An `Error` only appears nested inside
 * an array (e.g. a Lua table holding an error reply); top-level errors are thrown as `RedisReplyError`.
 */
export type Reply = null | Buffer | bigint | Error | Reply[];

/** One command's outcome as the Upstash protocol reports it. */
export type Outcome = { result: Reply } | { error: string };

/** Result of a MULTI/EXEC: per-command outcomes, or the whole transaction discarded (EXECABORT). */
export type TransactionResult = { outcomes: Outcome[] } | { aborted: string };

/** An error reply from Redis; `message` keeps Redis's prefix (`ERR`, `NOSCRIPT`, `WRONGTYPE`, …). */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

export type BackendMode = 'redis-url' | 'redis-server' | 'embedded';

export interface Backend {
  readonly mode: BackendMode;
  /** The Redis it talks to; unset for the embedded store. */
  readonly redisUrl?: string;
  /**
   * Runs one command (`[name, ...args]`, name in any case). Rejects with `RedisReplyError` for a Redis
   * error reply and with any other error when Redis cannot be reached.
   */
  call(command: string[]): Promise<Reply>;
  /** Runs the commands between MULTI and EXEC, atomically with respect to other callers. */
  transaction(commands: string[][]): Promise<TransactionResult>;
  close(): Promise<void>;
}

/** The Redis error text for a command a backend does not know. */
export function unknownCommandError(command: string[]): RedisReplyError {
  const preview = command
    .slice(1, 4)
    .map((arg) => `'${arg}' `)
    .join('');
  return new RedisReplyError(`ERR unknown command '${command[0]}', with args beginning with: ${preview}`);
}
