import { script } from './common.js';

/**
 * The batch ack's body; claim-finish.ts runs it as a function with its own
 * KEYS/ARGV before a claim (the header below says what it reads).
 */
export const FINISH_BODY = `
-- An earlier delivery: the task was given out again, or put back in its queue after the lease expired.
local function earlier(n, cur, s)
  return n < cur or (n == cur and not is_running(s))
end

local now = ARGV[2]
local ttl = ARGV[3]
local out = {}
local done = {}
local dead = {}
for i = 5, #ARGV, 6 do
  local kind, id, worker, attempt, data = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local key = BASE .. 't:' .. id
  local h = redis.call('HMGET', key, 'm', 'j', 'E', 'P', 'k', 'u', 'g')
  local recorded = 0
  if h[1] then
    local s, v, a, r, t, S, f, l, w = parse_m(h[1])
    -- the live delivery, or (success only) an earlier one of a task that has not finished
    if (is_running(s) and w == worker and a == attempt)
      or (kind == 'S' and s and not is_finished(s) and earlier(tonumber(attempt), tonumber(a), s)) then
      v = tostring(v + 1)
      -- a flow-controlled task that was running frees its slots
      if h[7] and is_running(s) then free_slots(h[7], queue_of(h[2])) end
      if kind == 'S' then
        redis.call('HSET', key, 'm', pack_m('SUCCESS', v, a, r, t, S, now, '', ''), 'R', data)
        local function build()
          return info_json(id, h[2], 'SUCCESS', v, a, r, t, S, now, h[3], h[4], data)
        end
        publish_if_watched(id, build)
        feed(id, h[2], ttl, now, now, build)
      else
        redis.call('HSET', key, 'm', pack_m('FAILURE', v, a, r, t, S, now, '', ''), 'E', data)
        local function build()
          return info_json(id, h[2], 'FAILURE', v, a, r, t, S, now, data, h[4], false)
        end
        publish_if_watched(id, build)
        feed(id, h[2], ttl, now, now, build)
        if kind == 'D' then dead[#dead + 1] = ARGV[i + 5] end
      end
      expire_finished(key, h[5], ttl)
      follow_up(h[6], now)
      done[#done + 1] = id
      recorded = 1
    end
  end
  out[#out + 1] = recorded
end
for i = 1, #done, 1000 do
  redis.call('ZREM', KEYS[1], unpack(done, i, math.min(i + 999, #done)))
end
if #dead > 0 then
  redis.call('LPUSH', KEYS[2], unpack(dead))
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
end
return out
`;

export const FINISH_LUA = script(
  `
-- finish.lua: end a batch of deliveries (batch ack): SUCCESS, FAILURE or FAILURE + dead letter.
-- KEYS[1] BASE leases (zset), KEYS[2] BASE dead (dead-letter list)
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] resultTtlMs, ARGV[4] deadLetterLimit
-- ARGV[5..] 6 per op: kind ('S' success, 'F' failure, 'D' dead letter), id, workerId, attempt,
--           data (result JSON for S, error JSON for F/D), dead-letter JSON (D) or ''
-- Touches BASE t:<id>, BASE i:<key>, the tag keys of a tagged task and the keys of
-- its follow-up (built here, see common.ts): the follow-up is enqueued in the same step.
-- A stale delivery (not running, other owner or attempt) is refused, except
-- that a success from an earlier delivery counts while the task has not
-- finished (its lease expired and the task was given out again): first
-- finisher wins, and the later delivery learns it from its lease renewal.
-- Returns, per op, 1 (recorded) or 0 (refused). The TaskInfo is built only
-- for the status event, and only when someone watches the task.
`,
  FINISH_BODY,
);
