import { script } from './common.js';

export const RESCUE_LUA = script(
  `
-- rescue.lua: put tasks whose lease expired (their worker died) back in their queue, due now.
-- KEYS[1] BASE leases
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] at most this many lease entries per call, ARGV[4] resultTtlMs
-- Touches BASE t:<id>, the task's queue keys (q:, w:, and d: / qp: for a priority), its tag keys and,
-- when it ends FAILURE, its follow-up's keys (known only once the task is read; built
-- here, see common.ts).
-- A rescued task keeps its priority (field o).
-- Returns {rescued, lease entries examined}.
`,
  `
local now = tonumber(ARGV[2])
local ids = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local rescued = 0
for _, id in ipairs(ids) do
  local key = BASE .. 't:' .. id
  local h = redis.call('HMGET', key, 'm', 'j', 'E', 'P', 'o', 'g')
  local s, v, a, r, t, S, f, l, w = false, 0, 0, 0, 0, '', '', '', ''
  if h[1] then s, v, a, r, t, S, f, l, w = parse_m(h[1]) end
  local lease = tonumber(l) or 0
  if is_running(s) and lease > now then
    redis.call('ZADD', KEYS[1], lease, id)
  else
    redis.call('ZREM', KEYS[1], id)
    local queue = queue_of(h[2])
    if h[6] and is_running(s) then free_slots(h[6], queue) end
    if is_running(s) and queue then
      v = v + 1
      redis.call('HSET', key, 'm', pack_m('PENDING', v, a, r, now, S, f, '', ''))
      requeue(queue_keys(queue), queue, id, priority_of(h[5]), h[6])
      local function build()
        return info_json(id, h[2], 'PENDING', v, a, r, now, S, f, h[3], h[4], false)
      end
      publish_if_watched(id, build)
      feed(id, h[2], ARGV[4], now, now, build)
      rescued = rescued + 1
    elseif is_running(s) then
      -- j unreadable (a corrupt record): no queue to put it back in, so it ends FAILURE
      v = v + 1
      redis.call('HSET', key, 'm', pack_m('FAILURE', v, a, r, t, S, now, '', ''), 'E', cjson.encode({
        type = 'DecodeError',
        message = 'the stored name, queue and enqueue time (field j) of task ' .. id .. ' cannot be read',
      }))
      -- a terminal state (its tags are in the unreadable j: no feed)
      local ku = redis.call('HMGET', key, 'k', 'u')
      expire_finished(key, ku[1], ARGV[4])
      follow_up(ku[2], ARGV[2])
    elseif not s and h[1] and queue then
      -- m unreadable (a corrupt record): back to its queue, where a claim hands it out to be dead-lettered
      requeue(queue_keys(queue), queue, id, priority_of(h[5]), h[6])
    end
  end
end
return {rescued, #ids}
`,
);
