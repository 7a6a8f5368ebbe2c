import { randomUUID } from 'node:crypto';
import RedisMock from 'ioredis-mock';
import { type Backend, type Outcome, RedisReplyError, type Reply, unknownCommandError } from './backend.ts';
import { checkArity, expectedKeyType, normalizeOptions, WRONGTYPE } from './embedded-commands.ts';
import { ERROR_REPLY_MARK, wrapScriptForMock } from './embedded-lua.ts';
import { OVERRIDES } from './embedded-overrides.ts';
import { sha1Hex as sha1 } from './scripts.ts';

type MockMethod = (...args: string[]) => Promise<unknown>;

/** Mock methods that are client plumbing, not Redis commands. */
const NOT_COMMANDS = new Set([
  'connect',
  'disconnect',
  'duplicate',
  'quit',
  'pipeline',
  'multi',
  'exec',
  'batch',
  'defineCommand',
  'customCommand',
  'defineArgv',
  'defineKeys',
  'defineRedisObject',
]);
const SCRIPT_COMMANDS = new Set(['eval', 'eval_ro', 'evalsha', 'evalsha_ro', 'script']);
const NOSCRIPT = 'NOSCRIPT No matching script. Please use EVAL.';
const LUA_ERROR_PREFIX = 'Error trying to loading or executing lua code string in VM: ';

/**
 * An in-process store on ioredis-mock, for machines without Redis. Data lives in memory only. Every
 * command runs through one queue, so MULTI/EXEC and scripts are atomic as on Redis. Scripts are cached
 * here (EVAL, EVALSHA, SCRIPT LOAD/EXISTS/FLUSH) and run through the mock's Lua VM with the fixes in
 * `embedded-lua.ts`; `embedded-commands.ts` adds arity, WRONGTYPE and option-case fixes, and
 * `embedded-overrides.ts` rebuilds SET, EXPIRE/PEXPIRE, ZADD and the integer increments.
 *
 * Still different from Redis (callers must not rely on these):
 * - not binary-safe: values are JS strings, so bytes that are not UTF-8 come back as U+FFFD;
 * - integers are JS numbers, exact only up to 2^53;
 * - arity, WRONGTYPE and integer checks cover the common commands only (see `embedded-commands.ts`;
 *   inside Lua only WRONGTYPE); script errors are worded differently; Lua has no cjson, cmsgpack or
 *   bit libraries; script flags (`no-writes`, …) are ignored;
 * - commands ioredis-mock lacks answer "ERR unknown command '<name>': not supported by the embedded
 *   store" (and abort a transaction), e.g. BITFIELD, GEO*, COPY, FUNCTION/FCALL, HEXPIRE, HGETDEL;
 *   EVAL_RO and EVALSHA_RO are emulated.
 */
export function createEmbeddedBackend(): Backend {
  // A unique host gives this store its own keyspace: ioredis-mock shares data per host:port.
  const mock = new RedisMock({ host: `embedded-${randomUUID()}` });
  const store = mock as unknown as Record<string, MockMethod | undefined>;
  const scripts = new Map<string, string>();
  let queue: Promise<unknown> = Promise.resolve();

  function exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task, task);
    queue = run.catch(() => {});
    return run;
  }

  function methodFor(name: string): MockMethod | undefined {
    if (NOT_COMMANDS.has(name) || name.startsWith('_')) return undefined;
    const method = store[`${name}Buffer`] ?? store[name];
    return typeof method === 'function' && !isUnsupportedStub(method) ? method : undefined;
  }

  function isKnown(name: string): boolean {
    return SCRIPT_COMMANDS.has(name) || !!methodFor(name);
  }

  /** Redis's "unknown command", or a clearer error for a real command the mock only stubs. */
  function checkKnown(command: string[]): void {
    const name = (command[0] ?? '').toLowerCase();
    if (isKnown(name)) return;
    const stub = store[name];
    if (typeof stub === 'function' && isUnsupportedStub(stub)) {
      throw new RedisReplyError(`ERR unknown command '${command[0]}': not supported by the embedded store`);
    }
    throw unknownCommandError(command);
  }

  async function runScript(script: string, args: string[]): Promise<Reply> {
    scripts.set(sha1(script), script);
    const wrapped = wrapScriptForMock(script);
    try {
      return fromLua(await (store.eval as MockMethod).call(mock, wrapped, ...args));
    } catch (error) {
      throw scriptError(error);
    }
  }

  async function scriptCommand([sub = '', ...args]: string[]): Promise<Reply> {
    switch (sub.toLowerCase()) {
      case 'load': {
        const script = args[0] ?? '';
        scripts.set(sha1(script), script);
        return Buffer.from(sha1(script));
      }
      case 'exists':
        return args.map((hash) => (scripts.has(hash.toLowerCase()) ? 1n : 0n));
      case 'flush':
        scripts.clear();
        return Buffer.from('OK');
      default:
        throw new RedisReplyError(`ERR unknown subcommand '${sub}'. Try SCRIPT HELP.`);
    }
  }

  async function run(command: string[]): Promise<Reply> {
    const name = (command[0] ?? '').toLowerCase();
    const args = command.slice(1);
    checkKnown(command);
    checkArity(name, args);
    if (name === 'script') return scriptCommand(args);
    if (name === 'eval' || name === 'eval_ro') return runScript(args[0] ?? '', args.slice(1));
    if (name === 'evalsha' || name === 'evalsha_ro') {
      const script = scripts.get((args[0] ?? '').toLowerCase());
      if (script === undefined) throw new RedisReplyError(NOSCRIPT);
      return runScript(script, args.slice(1));
    }
    const type = expectedKeyType(name);
    if (type && args[0] !== undefined) {
      const actual = await (store.type as MockMethod).call(mock, args[0]);
      if (actual !== 'none' && actual !== type) throw new RedisReplyError(WRONGTYPE);
    }
    const normalized = normalizeOptions(name, args);
    const override = OVERRIDES[name];
    try {
      const raw = override
        ? await override(callPlain, normalized)
        : await (methodFor(name) as MockMethod).apply(mock, normalized);
      return fromMock(raw);
    } catch (error) {
      throw asReplyError(error);
    }
  }

  // For overrides: the mock's plain (string-returning) command.
  function callPlain(name: string, ...args: string[]): Promise<unknown> {
    return (store[name] as MockMethod).apply(mock, args);
  }

  return {
    mode: 'embedded',
    call: (command) => exclusive(() => run(command)),
    transaction: (commands) =>
      exclusive(async () => {
        const invalid = commands.map(queueingError).find((error) => error !== undefined);
        if (invalid)
          return { aborted: `EXECABORT Transaction discarded because of previous errors. ${invalid}` };
        const outcomes: Outcome[] = [];
        for (const command of commands) {
          try {
            outcomes.push({ result: await run(command) });
          } catch (error) {
            outcomes.push({ error: asReplyError(error).message });
          }
        }
        return { outcomes };
      }),
    async close() {
      await exclusive(async () => {
        await (store.flushall as MockMethod).call(mock);
        mock.disconnect();
      });
    },
  };

  // Redis rejects unknown commands and bad arity while queueing, which aborts the whole transaction.
  function queueingError(command: string[]): string | undefined {
    const name = (command[0] ?? '').toLowerCase();
    try {
      checkKnown(command);
      checkArity(name, command.slice(1));
      return undefined;
    } catch (error) {
      return `First error: ${(error as Error).message}`;
    }
  }
}

// ioredis-mock defines every Redis command; the ones it lacks throw "Unsupported command".
function isUnsupportedStub(method: MockMethod): boolean {
  return method.toString().includes('Unsupported command');
}

/** Plain command replies: strings → Buffer, integers → bigint, HGETALL's object → flat array. */
function fromMock(value: unknown): Reply {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new RedisReplyError('ERR value is not an integer or out of range');
    return Number.isInteger(value) ? BigInt(value) : Buffer.from(String(value));
  }
  if (typeof value === 'boolean') return value ? 1n : null;
  if (Array.isArray(value)) return value.map(fromMock);
  if (typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [Buffer.from(k), fromMock(v)]);
  return Buffer.from(String(value));
}

/** Lua → Redis conversion: numbers truncate to integers, true → 1, false → nil. */
function fromLua(value: unknown): Reply {
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  if (typeof value === 'boolean') return value ? 1n : null;
  if (typeof value === 'string') return Buffer.from(value);
  if (Array.isArray(value)) return value.map(fromLua);
  return null;
}

function asReplyError(error: unknown): RedisReplyError {
  if (error instanceof RedisReplyError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // The mock throws Redis-style messages ("ERR syntax error"); anything else is a JS error inside it.
  return new RedisReplyError(/^[A-Z]+ /.test(message) ? message : `ERR ${message}`);
}

function scriptError(error: unknown): RedisReplyError {
  const message = error instanceof Error ? error.message : String(error);
  if (!message.startsWith(LUA_ERROR_PREFIX)) return asReplyError(error);
  const detail = message.slice(LUA_ERROR_PREFIX.length);
  if (detail.startsWith(ERROR_REPLY_MARK)) return new RedisReplyError(detail.slice(ERROR_REPLY_MARK.length));
  if (/^[A-Z]+ /.test(detail)) return new RedisReplyError(detail);
  return new RedisReplyError(`ERR ${detail.replace(/^\[string "[^"]*"\]:(\d+):/, 'user_script:$1:')}`);
}
