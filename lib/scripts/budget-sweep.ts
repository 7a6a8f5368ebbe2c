// Charges the leases of one scope made on one day that expired at or before `upto` at their full
// amount: a settle lost to an evicted isolate or a Redis timeout is work the provider still bills, so
// the budget counts it as spent, never hands it back (a late settle corrects it). The charge lands on
// the day the lease expired: on `made` when before `boundary` (the next day's first ms), else on
// `after` (the next day), whose `index` the scope then joins. Without `after`, all of it lands on `made`.
export const SWEEP = `local function sweep(leases, made, upto, boundary, after, index, scope, ttl)
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', upto, 'WITHSCORES')
  if #expired == 0 then return end
  local onMade, onAfter = 0, 0
  for j = 1, #expired, 2 do
    local id, held = string.match(expired[j], '^(.*):(%d+)$')
    if after and tonumber(expired[j + 1]) >= boundary then
      onAfter = onAfter + tonumber(held)
      redis.call('HSET', made, 'ended:' .. id, held .. ':1')
    else
      onMade = onMade + tonumber(held)
      redis.call('HSET', made, 'ended:' .. id, held)
    end
  end
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', upto)
  if onMade + onAfter > 0 then redis.call('HINCRBY', made, 'reserved', -(onMade + onAfter)) end
  if onMade > 0 then redis.call('HINCRBY', made, 'spent', onMade) end
  if onAfter > 0 then
    redis.call('HINCRBY', after, 'spent', onAfter)
    redis.call('SADD', index, scope)
    redis.call('EXPIRE', after, ttl)
    redis.call('EXPIRE', index, ttl)
  end
end
`;
