import { script } from './common.js';

/**
 * Stores new tasks (PENDING, version 1) and makes them claimable: due ones
 * appended to their queue's ready list, the others into its delayed zset.
 * The PENDING event is not published: nobody can subscribe to an id before
 * enqueue has returned it (a watcher reads the snapshot first).
 */
export const ENQUEUE_LUA = script(
  `
-- enqueue.lua: store a batch of new tasks atomically.
-- KEYS: for each distinct queue j of the batch (0-based), KEYS[3j+1] = BASE q:<queue> (ready list),
--       KEYS[3j+2] = BASE d:<queue> (delayed zset), KEYS[3j+3] = BASE w:<queue> (wake token)
-- ARGV[1] BASE ('{prefix}:'), ARGV[2] now (ms)
-- ARGV[3..] 7 per task: id, queue index j+1, static JSON fragment (field j), payload, runAt,
--           expiresAt or '', '=' .. idempotency key or '' (the '=' marks a key, which may be empty)
-- Touches per task BASE t:<id> and BASE i:<key> (built here, see common.ts).
-- Returns {id, created (1|0), ...} in task order.
`,
  `
local now = tonumber(ARGV[2])
local out = {}
local ready = {}
local delayed = {}
local earliest = {}
for i = 3, #ARGV, 7 do
  local id, qi, j, payload, run_at = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local expires, ikey = ARGV[i + 5], ARGV[i + 6]
  local has_key = ikey ~= ''
  if has_key then ikey = string.sub(ikey, 2) end
  local existing = false
  if has_key then
    existing = redis.call('GET', BASE .. 'i:' .. ikey)
    if existing and redis.call('EXISTS', BASE .. 't:' .. existing) == 0 then existing = false end
  end
  if existing then
    out[#out + 1] = existing
    out[#out + 1] = 0
  else
    local m = pack_m('PENDING', 1, 0, 0, run_at, '', '', '', '')
    if expires == '' and not has_key then
      redis.call('HSET', BASE .. 't:' .. id, 'j', j, 'p', payload, 'm', m)
    else
      local fields = {'j', j, 'p', payload, 'm', m}
      if expires ~= '' then fields[#fields + 1] = 'x'; fields[#fields + 1] = expires end
      if has_key then
        fields[#fields + 1] = 'k'; fields[#fields + 1] = ikey
        redis.call('SET', BASE .. 'i:' .. ikey, id)
      end
      redis.call('HSET', BASE .. 't:' .. id, unpack(fields))
    end
    local at = tonumber(run_at)
    if at <= now then
      local list = ready[qi]
      if not list then list = {}; ready[qi] = list end
      list[#list + 1] = id
    else
      local zs = delayed[qi]
      if not zs then zs = {}; delayed[qi] = zs end
      zs[#zs + 1] = at
      zs[#zs + 1] = id
      if not earliest[qi] or at < earliest[qi] then earliest[qi] = at end
    end
    out[#out + 1] = id
    out[#out + 1] = 1
  end
end
for qi, ids in pairs(ready) do push_ready(KEYS[3 * qi - 2], KEYS[3 * qi], ids) end
for qi, zs in pairs(delayed) do push_delayed(KEYS[3 * qi - 1], KEYS[3 * qi], zs, earliest[qi]) end
return out
`,
);
