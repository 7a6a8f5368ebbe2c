/**
 * Makes scripts behave more like they do on Redis when run by ioredis-mock's Lua VM (fengari, Lua 5.3,
 * no cjson). The mock gets these wrong, and @upstash/ratelimit depends on the first two:
 * - a nil inside a `redis.call` array reply (e.g. HMGET of a missing field) arrives as a JS-null
 *   userdata instead of `false`, so `bucket[1] == false` never holds;
 * - Lua numbers passed to `redis.call` reach the store unconverted; Redis turns them into strings
 *   (`10`, `1.5`), so we do the same;
 * - a returned table stops at its first nil, `{ok=…}` returns the status, `{err=…}` an error reply;
 * - `redis.pcall` returns `{err=…}` instead of crashing;
 * - typed commands on a key of another type fail with WRONGTYPE instead of overwriting it.
 */
import { typedCommands, WRONGTYPE } from './embedded-commands.ts';

/** Marks an error raised by `{err=…}` so the backend can return its text verbatim. */
export const ERROR_REPLY_MARK = '\u0001bridge-error-reply\u0001';

// Kept on ONE line and followed by the script on that same line, so error line numbers stay right.
const PRELUDE = [
  'local __call = redis.call',
  `local __types = { ${typedCommands()
    .map(([name, type]) => `${name} = "${type}"`)
    .join(', ')} }`,
  'local function __checktype(a) local want = __types[string.lower(tostring(a[1]))]',
  '  if want == nil or a[2] == nil then return end',
  `  local t = __call("TYPE", a[2]) if t ~= "none" and t ~= want then error("${WRONGTYPE}", 0) end end`,
  'local function __len(v) return #v end',
  'local function __arg(v) if type(v) ~= "number" then return v end',
  '  local int = math.tointeger(v) if int then return string.format("%d", int) end',
  '  local s = string.format("%.14g", v) if tonumber(s) == v then return s end',
  '  return string.format("%.17g", v) end',
  'local function __fix(v) if type(v) ~= "userdata" then return v end',
  '  local ok, n = pcall(__len, v)',
  '  if not ok then if tostring(v) == "null" then return false end return v end',
  '  local t = {} for i = 1, n do local x = v[i]',
  '    if type(x) == "userdata" and tostring(x) == "null" and not pcall(__len, x) then x = false end',
  '    t[i] = x end',
  '  return t end',
  'local function __errtext(e) return (tostring(e):gsub("^%a*Error: ", "")) end',
  'redis.call = function(...) local a = table.pack(...) for i = 1, a.n do a[i] = __arg(a[i]) end',
  '  __checktype(a)',
  '  local ok, r = pcall(__call, table.unpack(a, 1, a.n))',
  '  if not ok then local m = __errtext(r)',
  '    if m:find("reading \'bind\'", 1, true) then m = "ERR Unknown Redis command called from script" end',
  '    error(m, 0) end',
  '  return __fix(r) end',
  'redis.pcall = function(...) local ok, r = pcall(redis.call, ...)',
  '  if not ok then return { err = tostring(r) } end return r end',
  'local function __ret(v) if type(v) ~= "table" then return v end',
  `  if v.err then error("${ERROR_REPLY_MARK}" .. tostring(v.err), 0) end`,
  '  if v.ok then return v.ok end',
  '  local t = {} local i = 1',
  '  while v[i] ~= nil do local x = v[i]',
  '    if type(x) == "table" then x = x.ok or x.err or __ret(x) end',
  '    t[i] = x i = i + 1 end',
  // Rebuilt with a constructor: the mock only recognises a returned table as an array when its keys
  // come out of lua_next in constructor order, which tables filled by assignment do not guarantee.
  '  return { table.unpack(t, 1, i - 1) } end',
].join(' ');

/**
 * Wraps a script for the mock: drops a `#!lua` shebang line (fengari cannot parse it; its flags mean
 * nothing to the mock) but keeps the newline, installs the prelude and converts the return value.
 */
export function wrapScriptForMock(script: string): string {
  const body = script.startsWith('#!') ? script.replace(/^#![^\n]*/, '') : script;
  return `${PRELUDE} return __ret((function() ${body}\nend)())`;
}
