import { script } from './common.js';

export const RETRY_LUA = script(
  `
-- retry.lua: a running delivery failed and is due again at runAt (state RETRY, retries + 1).
-- KEYS[1] BASE leases, KEYS[2] BASE q:<queue>, KEYS[3] BASE d:<queue>, KEYS[4] BASE w:<queue>,
-- KEYS[5] BASE qp:<queue>
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] id, ARGV[4] workerId, ARGV[5] attempt,
-- ARGV[6] error JSON, ARGV[7] runAt, ARGV[8] resultTtlMs (tag feeds)
-- Touches BASE t:<id> and a tagged task's tag keys (built here, see common.ts).
-- A future runAt goes to the delayed zset, never to the ready list; the task keeps its priority (field o).
-- Returns 1, or false for a stale delivery.
`,
  `
local now = tonumber(ARGV[2])
local id = ARGV[3]
local key = BASE .. 't:' .. id
local h = redis.call('HMGET', key, 'm', 'j', 'P', 'o', 'g')
if not h[1] then return false end
local s, v, a, r, t, S, f, l, w = parse_m(h[1])
if not (is_running(s) and w == ARGV[4] and a == ARGV[5]) then return false end
v = v + 1
r = r + 1
t = ARGV[7]
redis.call('HSET', key, 'm', pack_m('RETRY', v, a, r, t, S, f, '', ''), 'E', ARGV[6])
redis.call('ZREM', KEYS[1], id)
local fl = flow_of(h[5])
if fl then
  local queue = string.sub(KEYS[2], #BASE + 3)
  free_slots(h[5], queue)
  schedule_flow(queue_keys_at(2), queue, id, priority_of(h[4]), fl, tonumber(t), now)
else
  schedule(queue_keys_at(2), id, priority_of(h[4]), tonumber(t), now)
end
local function build()
  return info_json(id, h[2], 'RETRY', v, a, r, t, S, f, ARGV[6], h[3], false)
end
publish_if_watched(id, build)
feed(id, h[2], ARGV[8], t, now, build)
return 1
`,
);
