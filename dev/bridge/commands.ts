/**
 * Request bodies as @upstash/redis sends them: `["set","k","v"]` for `POST /`, an array of those for
 * `/pipeline` and `/multi-exec`. Arguments arrive as JSON strings, numbers, booleans or null and are
 * turned into the strings Redis expects (reference/upstash-and-workers.md §1.2).
 */

/** A request the bridge refuses before any Redis command runs; rendered as 400 `{"error": message}`. */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

// Commands that block, switch the connection into another mode or change connection state: Upstash does
// not offer them over REST, and on a shared connection they would break every other request.
const REFUSED = new Set([
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'blmpop',
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
  'wait',
  'waitaof',
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
  'monitor',
  'sync',
  'psync',
  'multi',
  'exec',
  'discard',
  'watch',
  'unwatch',
  'select',
  'swapdb',
  'quit',
  'reset',
  'hello',
  'auth',
  'client',
  'shutdown',
  'replicaof',
  'slaveof',
  'failover',
  'debug',
]);

/** Parses a `POST /` body into one command. */
export function parseSingle(body: string): string[] {
  return toCommand(parseJson(body), 'the body');
}

/** Parses a `/pipeline` or `/multi-exec` body into a non-empty list of commands. */
export function parseBatch(body: string): string[][] {
  const value = parseJson(body);
  if (!Array.isArray(value)) throw new BadRequestError('ERR the body must be an array of commands');
  if (value.length === 0) throw new BadRequestError('ERR the body must contain at least one command');
  return value.map((entry, index) => toCommand(entry, `command ${index}`));
}

/**
 * Why Upstash would refuse this command, or undefined when it may run. XREAD/XREADGROUP are refused
 * only with BLOCK.
 */
export function refusalReason(command: string[]): string | undefined {
  const name = (command[0] ?? '').toLowerCase();
  const blockingRead =
    (name === 'xread' || name === 'xreadgroup') && command.some((arg) => arg.toLowerCase() === 'block');
  if (!REFUSED.has(name) && !blockingRead) return undefined;
  return `ERR Command is not available: '${name}'. Blocking, pub/sub and connection-state commands are not supported over REST`;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new BadRequestError('ERR failed to parse the request body as JSON');
  }
}

function toCommand(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequestError(`ERR ${what} must be a non-empty array: ["command", ...args]`);
  }
  return value.map((arg, index) => {
    if (typeof arg === 'string') return arg;
    if (typeof arg === 'number' || typeof arg === 'boolean' || arg === null) return JSON.stringify(arg);
    throw new BadRequestError(`ERR ${what}: argument ${index} must be a string, number, boolean or null`);
  });
}
