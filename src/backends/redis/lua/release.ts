import { script } from './common.js';

export const RELEASE_LUA = script(
  `
-- release.lua: graceful stop; a running delivery goes back to PENDING, due now,
-- and its attempt does not count (attempts - 1).
-- KEYS[1] BASE leases, KEYS[2] BASE q:<queue>, KEYS[3] BASE d:<queue>, KEYS[4] BASE w:<queue>,
-- KEYS[5] BASE qp:<queue>; the task keeps its priority (field o).
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] id, ARGV[4] workerId, ARGV[5] attempt,
-- ARGV[6] resultTtlMs (tag feeds), ARGV[7] (holdRateLimit only) the time a hold ends:
-- the task's rate keys are blocked until then (see common.ts); a task without
-- rate limits is due again then instead of now. ARGV[8] '1' (release with a due
-- time): the task is due again at ARGV[7], and nothing is held
-- Touches BASE t:<id> and a tagged task's tag keys (built here, see common.ts).
-- Returns 1, or false for a stale delivery.
`,
  `
local now = ARGV[2]
local id = ARGV[3]
local key = BASE .. 't:' .. id
local h = redis.call('HMGET', key, 'm', 'j', 'E', 'P', 'o', 'g')
if not h[1] then return false end
local s, v, a, r, t, S, f, l, w = parse_m(h[1])
if not (is_running(s) and w == ARGV[4] and a == ARGV[5]) then return false end
v = v + 1
a = a - 1
local fl = flow_of(h[6])
local hold = tonumber(ARGV[7])
if hold and (ARGV[8] == '1' or not (fl and #fl.r > 0)) then
  -- holdRateLimit of a task without rate limits, or a release with a due time: due again at the time given
  redis.call('HSET', key, 'm', pack_m('PENDING', v, a, r, ARGV[7], S, f, '', ''))
  redis.call('ZREM', KEYS[1], id)
  local queue = string.sub(KEYS[2], #BASE + 3)
  if fl then
    free_slots(h[6], queue)
    schedule_flow(queue_keys_at(2), queue, id, priority_of(h[5]), fl, hold, tonumber(now))
  else
    schedule(queue_keys_at(2), id, priority_of(h[5]), hold, tonumber(now))
  end
  local function build()
    return info_json(id, h[2], 'PENDING', v, a, r, ARGV[7], S, f, h[3], h[4], false)
  end
  publish_if_watched(id, build)
  feed(id, h[2], ARGV[6], ARGV[7], now, build)
  return 1
end
if hold then rate_hold(fl, tonumber(now), hold) end
redis.call('HSET', key, 'm', pack_m('PENDING', v, a, r, now, S, f, '', ''))
redis.call('ZREM', KEYS[1], id)
if h[6] then
  local queue = string.sub(KEYS[2], #BASE + 3)
  free_slots(h[6], queue)
  requeue(queue_keys_at(2), queue, id, priority_of(h[5]), h[6])
else
  push_ready_task(queue_keys_at(2), id, priority_of(h[5]))
end
local function build()
  return info_json(id, h[2], 'PENDING', v, a, r, now, S, f, h[3], h[4], false)
end
publish_if_watched(id, build)
feed(id, h[2], ARGV[6], now, now, build)
return 1
`,
);
