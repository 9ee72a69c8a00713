import { script } from './common.js';

/**
 * Every waiting task of a queue is in its ready list, its priority zset or
 * its delayed zset, so a purge drains those three (in chunks, so that no call blocks Redis long)
 * instead of scanning tasks. Stale entries (tasks no longer waiting) go too;
 * a corrupt record goes back to the ready list, where a claim hands it out
 * to be dead-lettered.
 */
export const PURGE_LUA = script(
  `
-- purge.lua: REVOKED for up to ARGV[4] waiting (PENDING or RETRY) tasks of one queue,
-- as revoke.lua does for a pending task.
-- KEYS[1] BASE q:<queue> (ready list), KEYS[2] BASE d:<queue> (delayed zset),
-- KEYS[3] BASE qp:<queue> (priority zset)
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] resultTtlMs, ARGV[4] entries to take per call
-- Touches BASE t:<id>, BASE i:<key>, the tag keys and follow-up keys of each task (built here).
-- Takes the ready list, then the priority zset, then the groups' lists of flow-controlled
-- tasks (BASE fl:, fr: of the queue, built here; only while the flow sentinel is there),
-- then the delayed zset (its sentinel
-- stays while the priority zset holds tasks, and goes with the last of them).
-- Returns {revoked, entries taken, entries left in the three}.
`,
  `
local now = ARGV[2]
local ttl = ARGV[3]
local chunk = tonumber(ARGV[4])
local ids = redis.call('LPOP', KEYS[1], chunk) or {}
if #ids < chunk then
  local z = redis.call('ZPOPMIN', KEYS[3], chunk - #ids)
  for i = 1, #z, 2 do ids[#ids + 1] = z[i] end
end
local queue = string.sub(KEYS[1], #BASE + 3)
local fr = BASE .. 'fr:' .. queue
local flowing = redis.call('ZSCORE', KEYS[2], FLOW_SENTINEL)
while flowing and #ids < chunk do
  local g = redis.call('ZRANGE', fr, 0, 0)[1]
  if not g then break end
  local list = flow_list(queue, g)
  for _, id in ipairs(redis.call('LPOP', list, chunk - #ids) or {}) do ids[#ids + 1] = id end
  if redis.call('LLEN', list) == 0 then redis.call('ZREM', fr, g) end
end
if #ids < chunk then
  -- two more than needed: the sentinels may be among them
  local members = redis.call('ZRANGE', KEYS[2], 0, chunk - #ids + 1)
  local taken = {}
  for _, member in ipairs(members) do
    local id = parse_delayed(member)
    if id and #ids < chunk then
      ids[#ids + 1] = id
      taken[#taken + 1] = member
    end
  end
  if #taken > 0 then redis.call('ZREM', KEYS[2], unpack(taken)) end
end
local revoked = 0
local corrupt = {}
for _, id in ipairs(ids) do
  local key = BASE .. 't:' .. id
  local h = redis.call('HMGET', key, 'm', 'j', 'E', 'P', 'R', 'k', 'u')
  local s, v, a, r, t, S = parse_m(h[1])
  if s == 'PENDING' or s == 'RETRY' then
    v = v + 1
    redis.call('HSET', key, 'm', pack_m('REVOKED', v, a, r, t, S, now, '', ''))
    expire_finished(key, h[6], ttl)
    local function build()
      return info_json(id, h[2], 'REVOKED', v, a, r, t, S, now, h[3], h[4], h[5])
    end
    publish_if_watched(id, build)
    feed(id, h[2], ttl, now, now, build)
    follow_up(h[7], now)
    revoked = revoked + 1
  elseif not s and (h[1] or h[2]) then
    corrupt[#corrupt + 1] = id
  end
end
if #corrupt > 0 then redis.call('RPUSH', KEYS[1], unpack(corrupt)) end
local ranked = redis.call('ZCARD', KEYS[3])
local sentinel = redis.call('ZSCORE', KEYS[2], SEP)
if ranked == 0 and sentinel then
  redis.call('ZREM', KEYS[2], SEP)
  sentinel = false
end
local groups = 0
if flowing then
  groups = redis.call('ZCARD', fr)
  if groups == 0 then
    redis.call('ZREM', KEYS[2], FLOW_SENTINEL)
    flowing = false
  end
end
local delayed = redis.call('ZCARD', KEYS[2]) - (sentinel and 1 or 0) - (flowing and 1 or 0)
-- a group counts once (it holds at least one entry)
return {revoked, #ids, redis.call('LLEN', KEYS[1]) + ranked + delayed + groups}
`,
);
