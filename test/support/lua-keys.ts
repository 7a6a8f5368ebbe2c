/**
 * A static check that a Lua script touches only the keys it is given in KEYS, as Upstash's
 * `allow-key-locking` requires (it locks just those keys). Small and conservative, not a Lua parser:
 *
 * - every use of `redis` must be `redis.call(` or `redis.pcall(` with a string literal command whose
 *   key positions are listed in KEY_POSITIONS (a command not listed fails: teach the checker first);
 * - each key argument must be `KEYS[<any index>]`, `nil`, a parenthesised or `a and b or c` form whose
 *   possible values are such (Lua returns `b` or `c` there, or a falsy `a`, which touches no key), or
 *   a name every binding of which satisfies the same rule;
 * - the bindings of a name are found by name, ignoring scope (so shadowing only adds constraints):
 *   `local n = e` / `n = e` (positional in a list), `local n` (nil), a function parameter (bound to
 *   the argument at every call site of a named function, nil when omitted). A name bound by a `for`,
 *   a function's return value spread over several names, an assignment it cannot line up, a parameter
 *   of a function also passed around as a value, or no binding at all, is not a key.
 *
 * It does not follow values through tables (`t[1]` is never a key) and rejects any binding of KEYS.
 */

/** Which arguments (1-based, after the command name) are keys: `'all'`, or the listed positions. */
const KEY_POSITIONS: Record<string, 'all' | number[]> = Object.fromEntries([
  ...[
    'GET SET INCR INCRBY DECRBY EXPIRE PEXPIRE PTTL TTL',
    'HGET HMGET HSET HSETNX HDEL HKEYS HGETALL HINCRBY',
    'ZADD ZREM ZSCORE ZRANGEBYSCORE ZREMRANGEBYSCORE ZCARD SADD SREM SISMEMBER SMEMBERS',
  ]
    .join(' ')
    .split(' ')
    .map((name) => [name, [1]]),
  ...['DEL UNLINK EXISTS MGET']
    .join(' ')
    .split(' ')
    .map((name) => [name, 'all']),
]);

/** The first line every script must start with. */
export const KEY_LOCKING_FLAG = '#!lua flags=allow-key-locking';

type Token = { kind: 'name' | 'string' | 'number' | 'op'; text: string };

function tokenize(source: string): Token[] {
  const body = source.startsWith('#!') ? source.slice(source.indexOf('\n') + 1) : source;
  const pattern =
    /\s+|--\[(=*)\[[\s\S]*?\]\1\]|--[^\n]*|\[(=*)\[([\s\S]*?)\]\2\]|'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|(\d[\w.]*)|([A-Za-z_]\w*)|(\.\.\.|\.\.|==|~=|<=|>=|.)/gy;
  const tokens: Token[] = [];
  for (const m of body.matchAll(pattern)) {
    const [, , , long, single, double, number, name, op] = m;
    if (long !== undefined) tokens.push({ kind: 'string', text: long });
    else if (single !== undefined || double !== undefined)
      tokens.push({ kind: 'string', text: single ?? double ?? '' });
    else if (number !== undefined) tokens.push({ kind: 'number', text: number });
    else if (name !== undefined) tokens.push({ kind: 'name', text: name });
    else if (op !== undefined) tokens.push({ kind: 'op', text: op });
  }
  return tokens;
}

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** The index just past the bracket that closes the one at `i`. */
function closing(tokens: Token[], i: number): number {
  let depth = 0;
  for (let j = i; j < tokens.length; j++) {
    const t = tokens[j]?.text ?? '';
    if (t in OPEN) depth++;
    else if (t === ')' || t === ']' || t === '}') depth--;
    if (depth === 0) return j + 1;
  }
  throw new Error('unbalanced brackets');
}

/** Splits at top-level occurrences of `separator` (a comma or a keyword). */
function splitTop(tokens: Token[], separator: string): Token[][] {
  const parts: Token[][] = [[]];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.text in OPEN) {
      const end = closing(tokens, i);
      parts.at(-1)?.push(...tokens.slice(i, end));
      i = end - 1;
    } else if (t.text === separator && t.kind !== 'string') parts.push([]);
    else parts.at(-1)?.push(t);
  }
  return parts;
}

/** An expression list up to the end of its statement: stops at a keyword or a name after a value. */
function expressionList(tokens: Token[], from: number): Token[] {
  const STOP = new Set(['local', 'if', 'for', 'while', 'return', 'end', 'else', 'elseif', 'do', 'then']);
  const out: Token[] = [];
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const prev = out.at(-1);
    const continues =
      !prev || (prev.kind === 'op' && !')]}'.includes(prev.text)) || ['and', 'or', 'not'].includes(prev.text);
    if (t.kind === 'name' && STOP.has(t.text)) break;
    const operator = t.text === 'and' || t.text === 'or';
    if ((t.kind === 'name' || t.kind === 'number' || t.kind === 'string') && !operator && !continues) break;
    if (t.text in OPEN) {
      const end = closing(tokens, i);
      out.push(...tokens.slice(i, end));
      i = end - 1;
    } else out.push(t);
  }
  return out;
}

type Binding = Token[] | 'unknown';

/** Every binding of every name, found by name (see the module comment). */
function bindings(tokens: Token[]): Map<string, Binding[]> {
  const found = new Map<string, Binding[]>();
  const bind = (name: string, value: Binding) => {
    found.set(name, [...(found.get(name) ?? []), value]);
  };
  const nil: Token[] = [{ kind: 'name', text: 'nil' }];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.text === 'for') {
      for (let j = i + 1; tokens[j]?.kind === 'name' || tokens[j]?.text === ','; j++) {
        if (tokens[j]?.kind === 'name' && tokens[j]?.text !== 'in')
          bind(tokens[j]?.text as string, 'unknown');
        if (tokens[j]?.text === 'in') break;
      }
    } else if (t.text === 'function') {
      let j = i + 1;
      let name = '';
      while (tokens[j]?.text !== '(') name += tokens[j++]?.text ?? '';
      const params = tokens.slice(j + 1, closing(tokens, j) - 1).filter((p) => p.kind === 'name');
      const sites = callSites(tokens, name);
      params.forEach((param, k) => {
        if (!name || sites === 'unknown') bind(param.text, 'unknown');
        else for (const args of sites) bind(param.text, args[k] ?? nil);
      });
    } else if (t.kind === 'name' && tokens[i + 1]?.text !== '.' && tokens[i - 1]?.text !== '.') {
      // The start of a name list `a, b, c =` (or `local a, b`)?
      // Any name can start a statement (Lua needs no separator), so a list starts anywhere but after a
      // `:` (a method) or a `,` (inside a list, unless the list began with a target like `t[i]`).
      const before = tokens[i - 1];
      if (before?.text === ':' || (before?.text === ',' && !afterComplexTarget(tokens, i))) continue;
      const names: string[] = [];
      let j = i;
      while (tokens[j]?.kind === 'name' && !isKeyword(tokens[j]?.text ?? '')) {
        names.push(tokens[j]?.text as string);
        if (tokens[j + 1]?.text !== ',') break;
        j += 2;
      }
      const next = tokens[j + 1]?.text;
      const local = before?.text === 'local';
      if (names.length === 0 || (next !== '=' && !local)) continue;
      if (before?.text === ',') {
        // `t[i], n = …`: the values cannot be lined up.
        for (const n of names) bind(n, 'unknown');
      } else if (next !== '=') for (const n of names) bind(n, nil);
      else {
        const values = splitTop(expressionList(tokens, j + 2), ',');
        names.forEach((n, k) => {
          const spread = k >= values.length;
          bind(n, spread ? 'unknown' : (values[k] as Token[]));
        });
      }
    }
  }
  return found;
}

/** Whether the names from `i` follow a target that is not a plain name (`t[i], n = …`). */
function afterComplexTarget(tokens: Token[], i: number): boolean {
  let j = i - 1;
  while (tokens[j]?.text === ',' && tokens[j - 1]?.kind === 'name' && !isKeyword(tokens[j - 1]?.text ?? ''))
    j -= 2;
  return tokens[j]?.text === ',';
}

const KEYWORDS = new Set(
  'and break do else elseif end false for function if in local nil not or repeat return then true until while'.split(
    ' ',
  ),
);
const isKeyword = (text: string) => KEYWORDS.has(text);

/** The argument lists of every call `name(...)`, or 'unknown' when the name is also used as a value. */
function callSites(tokens: Token[], name: string): Token[][][] | 'unknown' {
  const sites: Token[][][] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]?.text !== name || tokens[i - 1]?.text === 'function' || tokens[i - 1]?.text === '.')
      continue;
    if (tokens[i + 1]?.text !== '(') return 'unknown';
    sites.push(splitTop(tokens.slice(i + 2, closing(tokens, i + 1) - 1), ','));
  }
  return sites;
}

/**
 * Problems found in a script: a missing flag line, and each key argument (or use of `redis`) that
 * cannot be shown to come from KEYS. Empty when the script passes.
 */
export function keyProblems(source: string): string[] {
  const problems: string[] = [];
  if (source.split('\n')[0] !== KEY_LOCKING_FLAG) problems.push(`first line is not ${KEY_LOCKING_FLAG}`);
  const tokens = tokenize(source);
  const bound = bindings(tokens);
  if (bound.has('KEYS')) problems.push('KEYS is rebound');
  const isKey = (expr: Token[], seen: Set<string>): boolean =>
    splitTop(expr, 'or').every((alternative) => {
      const value = splitTop(alternative, 'and').at(-1) ?? [];
      const [first, second] = value;
      if (value.length === 0 || !first) return false;
      if (first.text === '(' && closing(value, 0) === value.length) return isKey(value.slice(1, -1), seen);
      if (first.text === 'KEYS' && second?.text === '[' && closing(value, 1) === value.length) return true;
      if (value.length !== 1 || first.kind !== 'name') return false;
      if (first.text === 'nil') return true;
      if (seen.has(first.text)) return true;
      const values = bound.get(first.text) ?? [];
      const next = new Set([...seen, first.text]);
      return values.length > 0 && values.every((v) => v !== 'unknown' && isKey(v, next));
    });
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]?.text !== 'redis') continue;
    const call = `${tokens[i + 1]?.text}${tokens[i + 2]?.text}${tokens[i + 3]?.text}`;
    if (call !== '.call(' && call !== '.pcall(') {
      problems.push(`redis used other than as redis.call( or redis.pcall(: redis${call}`);
      continue;
    }
    const args = splitTop(tokens.slice(i + 4, closing(tokens, i + 3) - 1), ',');
    const [command] = args[0] ?? [];
    const positions = command?.kind === 'string' ? KEY_POSITIONS[command.text.toUpperCase()] : undefined;
    if (!positions) {
      problems.push(`command ${command?.text} is not a literal the checker knows`);
      continue;
    }
    const keyArgs = positions === 'all' ? args.slice(1) : positions.map((p) => args[p] ?? []);
    for (const arg of keyArgs) {
      if (!isKey(arg, new Set()))
        problems.push(`${command?.text} key argument ${arg.map((t) => t.text).join(' ')}`);
    }
  }
  return problems;
}
