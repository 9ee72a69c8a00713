import { script } from './common.js';

/**
 * Backend.wake: a waiting task (PENDING or RETRY) due later leaves the
 * delayed zset for its lane, due now (version + 1, published, fed; the wake
 * token set as any push sets it).
 */
export const WAKE_LUA = script(
  `
-- wake.lua: make a waiting task due now.
-- KEYS[1] BASE t:<id>. ARGV[1] BASE, ARGV[2] now, ARGV[3] id, ARGV[4] resultTtlMs (tag feeds).
-- Returns 1, or 0 when the task is unknown, not waiting, or due already.
`,
  `
local now = tonumber(ARGV[2])
local id = ARGV[3]
local h = redis.call('HMGET', KEYS[1], 'm', 'j', 'E', 'P', 'o', 'g')
local s, v, a, r, t, S, f, l, w = parse_m(h[1])
if not (s == 'PENDING' or s == 'RETRY') or tonumber(t) <= now then return 0 end
local queue = queue_of(h[2])
if not queue then return 0 end
local qk = queue_keys(queue)
local fl = flow_of(h[6])
local p = priority_of(h[5])
if redis.call('ZREM', qk.d, delayed_member_of(id, p, fl)) == 0 then return 0 end
v = v + 1
redis.call('HSET', KEYS[1], 'm', pack_m(s, v, a, r, ARGV[2], S, f, l, w))
if fl then schedule_flow(qk, queue, id, p, fl, now, now) else schedule(qk, id, p, now, now) end
local function build()
  return info_json(id, h[2], s, v, a, r, ARGV[2], S, f, h[3], h[4], false)
end
publish_if_watched(id, build)
feed(id, h[2], ARGV[4], ARGV[2], now, build)
return 1
`,
);
