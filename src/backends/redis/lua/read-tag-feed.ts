import { script } from './common.js';

export const READ_TAG_FEED_LUA = script(
  `
-- read-tag-feed.lua: one page of a tag feed, oldest change first.
-- KEYS[1] BASE tz:<tag> (zset, task id -> cursor of its latest change)
-- ARGV[1] BASE, ARGV[2] after (cursor, exclusive), ARGV[3] limit
-- Touches BASE t:<id> of listed tasks (built here, see common.ts). Ids whose
-- task hash expired are skipped and dropped from the zset.
-- Returns {more (1|0), then 7 per entry: id, cursor, m, j, E, P, R}
-- (the caller builds each TaskInfo as getInfo does).
`,
  `
local zset = KEYS[1]
local limit = tonumber(ARGV[3])
local out = {0}
if limit <= 0 then return out end
local n = 0
local from = '(' .. ARGV[2]
local gone = {}
local done = false
while not done do
  -- one more than still wanted, to learn whether more follow
  local want = limit - n + 1
  local batch = redis.call('ZRANGE', zset, from, '+inf', 'BYSCORE', 'LIMIT', 0, want, 'WITHSCORES')
  if #batch < 2 * want then done = true end
  for i = 1, #batch, 2 do
    local id, cursor = batch[i], batch[i + 1]
    from = '(' .. cursor
    local h = redis.call('HMGET', BASE .. 't:' .. id, 'm', 'j', 'E', 'P', 'R', 'e')
    if not h[1] and not h[2] then
      gone[#gone + 1] = id
    elseif n == limit then
      out[1] = 1
      done = true
      break
    else
      n = n + 1
      local o = #out
      out[o + 1] = id; out[o + 2] = cursor
      h[2] = static_of(h[2], h[6])
      for k = 1, 5 do out[o + 2 + k] = h[k] or false end
    end
  end
end
for i = 1, #gone, 1000 do
  redis.call('ZREM', zset, unpack(gone, i, math.min(i + 999, #gone)))
end
return out
`,
);
