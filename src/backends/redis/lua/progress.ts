import { script } from './common.js';

export const PROGRESS_LUA = script(
  `
-- progress.lua: record progress of a running delivery (state PROGRESS).
-- KEYS[1] BASE t:<id> (routes the call to the prefix's slot on a cluster; the body builds it from ARGV);
-- touches it and a tagged task's tag keys (built here, see common.ts)
-- ARGV[1] BASE, ARGV[2] id, ARGV[3] workerId, ARGV[4] attempt, ARGV[5] progress JSON,
-- ARGV[6] resultTtlMs (tag feeds)
-- Returns 1, or false for a stale delivery.
`,
  `
local id = ARGV[2]
local key = BASE .. 't:' .. id
local h = redis.call('HMGET', key, 'm', 'j', 'E')
if not h[1] then return false end
local s, v, a, r, t, S, f, l, w = parse_m(h[1])
if not (is_running(s) and w == ARGV[3] and a == ARGV[4]) then return false end
v = v + 1
redis.call('HSET', key, 'm', pack_m('PROGRESS', v, a, r, t, S, f, l, w), 'P', ARGV[5])
local function build()
  return info_json(id, h[2], 'PROGRESS', v, a, r, t, S, f, h[3], ARGV[5], false)
end
publish_if_watched(id, build)
feed(id, h[2], ARGV[6], 0, 0, build)
return 1
`,
);
