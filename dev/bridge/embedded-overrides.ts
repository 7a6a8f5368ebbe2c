import { RedisReplyError } from './backend.ts';

/**
 * Commands whose ioredis-mock version gets options or validation wrong, rebuilt from simpler mock calls.
 * Each receives upper-cased option tokens (see `normalizeOptions`) and returns a raw mock-style value.
 */

/** Calls a mock command and returns its plain (string) reply. */
export type MockCall = (name: string, ...args: string[]) => Promise<unknown>;
type Override = (call: MockCall, args: string[]) => Promise<unknown>;

const NOT_INTEGER = 'ERR value is not an integer or out of range';
const INTEGER = /^[+-]?\d+$/;
const EXPIRY_OPTIONS = ['EX', 'PX', 'EXAT', 'PXAT'];

export const OVERRIDES: Record<string, Override> = {
  set,
  expire: (call, args) => expireWithOptions(call, 'expire', 1000, args),
  pexpire: (call, args) => expireWithOptions(call, 'pexpire', 1, args),
  zadd,
  incr: (call, args) => checkedIncrement(call, 'incr', args),
  incrby: (call, args) => checkedIncrement(call, 'incrby', args),
  decr: (call, args) => checkedIncrement(call, 'decr', args),
  decrby: (call, args) => checkedIncrement(call, 'decrby', args),
  async hincrby(call, args) {
    const current = await call('hget', args[0] ?? '', args[1] ?? '');
    if (typeof current === 'string' && !INTEGER.test(current)) {
      throw new RedisReplyError('ERR hash value is not an integer');
    }
    return call('hincrby', ...args);
  },
};

// The mock pairs SET's options after dropping NX/XX, so a flag in between (`GET EX 60` pairs GET with
// EX) loses the TTL; it also accepts bad expiry values and clears the TTL on KEEPTTL.
async function set(call: MockCall, [key = '', value = '', ...options]: string[]): Promise<unknown> {
  const expiry: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const option = options[i] ?? '';
    if (!EXPIRY_OPTIONS.includes(option)) {
      flags.push(option);
      continue;
    }
    const amount = options[++i] ?? '';
    if (!INTEGER.test(amount)) throw new RedisReplyError(NOT_INTEGER);
    if (Number(amount) <= 0) throw new RedisReplyError("ERR invalid expire time in 'set' command");
    expiry.push(option, amount);
  }
  if (flags.includes('NX') && flags.includes('XX')) throw new RedisReplyError('ERR syntax error');
  const keepTtl = flags.includes('KEEPTTL');
  const ttlMs = keepTtl ? Number(await call('pttl', key)) : -1;
  const reply = await call('set', key, value, ...expiry, ...flags.filter((flag) => flag !== 'KEEPTTL'));
  if (keepTtl && ttlMs > 0 && reply !== null) await call('pexpire', key, String(ttlMs));
  return reply;
}

// The mock ignores NX/XX/GT/LT on EXPIRE and PEXPIRE.
async function expireWithOptions(
  call: MockCall,
  name: string,
  unitMs: number,
  args: string[],
): Promise<unknown> {
  const [key = '', amount = '', ...options] = args;
  if (options.length === 0) return call(name, key, amount);
  const currentMs = Number(await call('pttl', key));
  if (currentMs === -2) return 0;
  const newMs = Number(amount) * unitMs;
  const hasTtl = currentMs >= 0;
  const allowed =
    (!options.includes('NX') || !hasTtl) &&
    (!options.includes('XX') || hasTtl) &&
    (!options.includes('GT') || (hasTtl && newMs > currentMs)) &&
    (!options.includes('LT') || !hasTtl || newMs < currentMs);
  return allowed ? call(name, key, amount) : 0;
}

// The mock knows ZADD's NX and XX only; GT, LT, CH and INCR would be stored as members.
async function zadd(call: MockCall, [key = '', ...rest]: string[]): Promise<unknown> {
  const flags = new Set<string>();
  while (['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'].includes(rest[0] ?? '')) flags.add(rest.shift() ?? '');
  if (rest.length === 0 || rest.length % 2 !== 0 || (flags.has('INCR') && rest.length !== 2)) {
    throw new RedisReplyError('ERR syntax error');
  }
  if (
    (flags.has('NX') && (flags.has('XX') || flags.has('GT') || flags.has('LT'))) ||
    (flags.has('GT') && flags.has('LT'))
  ) {
    throw new RedisReplyError('ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  let counted = 0;
  let lastScore: number | null = null;
  for (let i = 0; i < rest.length; i += 2) {
    const member = rest[i + 1] ?? '';
    const given = Number(rest[i]?.replace(/^\+?inf$/i, 'Infinity').replace(/^-inf$/i, '-Infinity'));
    if (Number.isNaN(given)) throw new RedisReplyError('ERR value is not a valid float');
    const raw = await call('zscore', key, member);
    const current = raw === null || raw === undefined ? null : Number(raw);
    const next = flags.has('INCR') && current !== null ? current + given : given;
    const skip =
      (flags.has('NX') && current !== null) ||
      (flags.has('XX') && current === null) ||
      (flags.has('GT') && current !== null && next <= current) ||
      (flags.has('LT') && current !== null && next >= current);
    if (skip) continue;
    await call('zadd', key, String(next), member);
    lastScore = next;
    if (current === null || (flags.has('CH') && next !== current)) counted++;
  }
  if (flags.has('INCR')) return lastScore === null ? null : String(lastScore);
  return counted;
}

// The mock increments "1.5" to 2.5 where Redis refuses non-integer values.
async function checkedIncrement(call: MockCall, name: string, args: string[]): Promise<unknown> {
  const current = await call('get', args[0] ?? '');
  if (typeof current === 'string' && !INTEGER.test(current)) throw new RedisReplyError(NOT_INTEGER);
  return call(name, ...args);
}
