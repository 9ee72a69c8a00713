import { script } from './common.js';

export const REVOKE_LUA = script(
  `
-- revoke.lua: REVOKED; a pending task never runs, a running one is announced on BASE revoked.
-- KEYS[1] BASE leases
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] id, ARGV[4] resultTtlMs
-- Touches BASE t:<id>, BASE i:<key>, the task's BASE d:<queue> (and BASE qp:<queue> for a
-- priority, whose entry goes too), its tag keys and its
-- follow-up's keys (known only once the task is read; built here, see common.ts). A ready-list entry of a
-- revoked task stays and is dropped by the claim that pops it.
-- Returns false for an unknown id, else {TaskInfo JSON, changed (1|0)}:
-- a finished task is returned unchanged; {false, 0} for a corrupt record (m
-- unreadable), left unchanged too.
`,
  `
local now = ARGV[2]
local id = ARGV[3]
local key = BASE .. 't:' .. id
local h = redis.call('HMGET', key, 'm', 'j', 'E', 'P', 'R', 'k', 'u', 'o', 'g', 'e')
if not h[1] and not h[2] then return false end
-- the TaskInfo is always built here: its enqueue time read with the rest (j itself stays as stored for tags_of)
local fixed = static_of(h[2], h[10])
local s, v, a, r, t, S, f = parse_m(h[1])
-- a corrupt record: left as it is; the caller reports it as getInfo does
if not s then return {false, 0} end
if s == 'SUCCESS' or s == 'FAILURE' or s == 'REVOKED' then
  return {info_json(id, fixed, s, v, a, r, t, S, f, h[3], h[4], h[5]), 0}
end
local was_running = is_running(s)
v = v + 1
redis.call('HSET', key, 'm', pack_m('REVOKED', v, a, r, t, S, now, '', ''))
expire_finished(key, h[6], ARGV[4])
if was_running then
  redis.call('ZREM', KEYS[1], id)
  if h[9] then free_slots(h[9], queue_of(h[2])) end
elseif h[9] then
  -- a waiting flow task: out of the delayed zset; a stale entry in its group's list is dropped by a claim
  local queue = queue_of(h[2])
  if queue then redis.call('ZREM', BASE .. 'd:' .. queue, flow_delayed_member(id)) end
else
  local queue = queue_of(h[2])
  if queue then
    local p = priority_of(h[8])
    redis.call('ZREM', BASE .. 'd:' .. queue, delayed_member(id, p))
    -- a stale entry in the priority zset would be dropped by a claim; ZREM is as cheap
    if p ~= 0 then redis.call('ZREM', BASE .. 'qp:' .. queue, id) end
  end
end
local json = publish(id, info_json(id, fixed, 'REVOKED', v, a, r, t, S, now, h[3], h[4], h[5]))
if was_running then redis.call('PUBLISH', BASE .. 'revoked', id) end
feed(id, h[2], ARGV[4], now, now, function() return json end)
follow_up(h[7], now)
return {json, 1}
`,
);
