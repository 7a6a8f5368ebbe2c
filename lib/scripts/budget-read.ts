import type { LuaScript } from './run';

// Budget totals read without changing anything (data layout: lib/scripts/budget.ts).

// Sums the leases of one zset that expired at or before `now`: all of them, and those that expired
// within [from, to), the day a sweep would charge them to.
const EXPIRED = `local function expired(leases, now, from, to)
  local all, within = 0, 0
  local list = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'WITHSCORES')
  for j = 1, #list, 2 do
    local amount, at = tonumber(string.match(list[j], ':(%d+)$')), tonumber(list[j + 1])
    all = all + amount
    if at >= from and at < to then within = within + amount end
  end
  return all, within
end
`;

/**
 * Reads each scope's totals of a day without changing anything. Expired leases count as spent on the
 * day they expired, as a sweep would charge them; reserved counts the live leases made on the day and
 * those carried over from the day before, as a reserve does.
 */
export const BUDGET_READ: LuaScript = {
  name: 'budget-read',
  source: `#!lua flags=allow-key-locking
-- KEYS: per scope its totals hash, leases zset and alerts hash of the day, then its totals hash and
-- leases zset of the day before. ARGV: now (ms), the day's first instant (ms), the next day's (ms).
-- Returns per scope: spent (expired leases charged), reserved (live leases only), calls, number of
-- alerts, then the alerts.
${EXPIRED}local now, from, to = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for i = 1, math.floor(#KEYS / 5) do
  local h = redis.call('HMGET', KEYS[5 * i - 4], 'spent', 'reserved', 'calls')
  local carried = tonumber(redis.call('HGET', KEYS[5 * i - 1], 'reserved')) or 0
  local staleHere, spentHere = expired(KEYS[5 * i - 3], now, from, to)
  local staleBefore, spentBefore = expired(KEYS[5 * i], now, from, to)
  local alerts = redis.call('HKEYS', KEYS[5 * i - 2])
  out[#out + 1] = (tonumber(h[1]) or 0) + spentHere + spentBefore
  out[#out + 1] = (tonumber(h[2]) or 0) + carried - staleHere - staleBefore
  out[#out + 1] = tonumber(h[3]) or 0
  out[#out + 1] = #alerts
  for _, threshold in ipairs(alerts) do out[#out + 1] = tonumber(threshold) end
end
return out`,
  sha1: '84584810c73133ff3cedc64d31bc27a6e77b37be',
};
