import { type Backend, type Outcome, RedisReplyError, type TransactionResult } from './backend.ts';
import { BadRequestError, refusalReason } from './commands.ts';
import { createScriptMap, type PreparedCommand } from './scripts.ts';

/** Counters behind `GET /_bridge/stats`. */
export interface BridgeStats {
  /** Upstash HTTP requests received on `/`, `/pipeline` and `/multi-exec`. */
  requests: number;
  /** Redis commands run, each command of a pipeline or transaction counted. */
  commands: number;
}

/** Runs Upstash requests against a backend, rewriting scripts on the way (see `scripts.ts`). */
export interface Executor {
  /** A refused command or a Redis error is an `{error}` outcome; an unreachable Redis throws. */
  single(command: string[]): Promise<Outcome>;
  /** In order; every failure, even an unreachable Redis, becomes that entry's `{error}`. */
  pipeline(commands: string[][]): Promise<Outcome[]>;
  /** Throws `BadRequestError` when a command may not run inside a transaction. */
  transaction(commands: string[][]): Promise<TransactionResult>;
}

export function createExecutor(backend: Backend, stats: BridgeStats): Executor {
  const scripts = createScriptMap();

  async function send(prepared: PreparedCommand): Promise<Outcome> {
    try {
      const reply = await backend.call(prepared.command);
      return { result: prepared.mapReply ? prepared.mapReply(reply) : reply };
    } catch (error) {
      if (!(error instanceof RedisReplyError)) throw error;
      if (prepared.onNoScript && error.message.startsWith('NOSCRIPT')) {
        return send({ ...prepared, command: prepared.onNoScript, onNoScript: undefined });
      }
      return { error: error.message };
    }
  }

  async function single(command: string[]): Promise<Outcome> {
    const refusal = refusalReason(command);
    if (refusal) return { error: refusal };
    stats.commands++;
    return send(scripts.prepare(command));
  }

  return {
    single,
    async pipeline(commands) {
      const outcomes: Outcome[] = [];
      // One at a time, so a NOSCRIPT fallback cannot reorder this pipeline's commands.
      for (const command of commands) {
        outcomes.push(
          await single(command).catch((error: Error) => ({ error: `ERR bridge: ${error.message}` })),
        );
      }
      return outcomes;
    },
    async transaction(commands) {
      for (const command of commands) {
        const refusal = refusalReason(command);
        if (refusal) throw new BadRequestError(refusal);
      }
      const prepared = commands.map((command) => scripts.prepare(command, { inTransaction: true }));
      stats.commands += commands.length;
      const result = await backend.transaction(prepared.map((p) => p.command));
      if ('aborted' in result) return result;
      return {
        outcomes: result.outcomes.map((outcome, i) => {
          const mapReply = prepared[i]?.mapReply;
          return mapReply && 'result' in outcome ? { result: mapReply(outcome.result) } : outcome;
        }),
      };
    },
  };
}
