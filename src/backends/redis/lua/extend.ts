import { script } from './common.js';

export const EXTEND_LUA = script(
  `
-- extend.lua: renew the leases of live deliveries.
-- KEYS[1] BASE leases
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] leaseMs, ARGV[4..] 3 per delivery: id, workerId, attempt
-- Touches BASE t:<id> (built here, see common.ts).
-- Returns the ids whose lease is lost (revoked, finished or taken over).
`,
  `
local lease_until = lease_end(tonumber(ARGV[2]), tonumber(ARGV[3]))
local lost = {}
local renewed = {}
for i = 4, #ARGV, 3 do
  local id = ARGV[i]
  local key = BASE .. 't:' .. id
  local m = redis.call('HGET', key, 'm')
  local ok = false
  if m then
    local s, v, a, r, t, S, f, l, w = parse_m(m)
    if is_running(s) and w == ARGV[i + 1] and a == ARGV[i + 2] then
      redis.call('HSET', key, 'm', pack_m(s, v, a, r, t, S, f, lease_until, w))
      renewed[#renewed + 1] = lease_until
      renewed[#renewed + 1] = id
      ok = true
    end
  end
  if not ok then lost[#lost + 1] = id end
end
for i = 1, #renewed, 1000 do
  redis.call('ZADD', KEYS[1], unpack(renewed, i, math.min(i + 999, #renewed)))
end
return lost
`,
);
