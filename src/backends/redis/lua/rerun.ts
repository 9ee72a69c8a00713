import { script } from './common.js';

/**
 * Lua function rerun(id, now, ttl): a FAILURE or REVOKED task back to
 * PENDING, due now (BackendAdmin.retryTasks): version + 1, retries 0, error,
 * result, startedAt and finishedAt cleared, attempts kept; it no longer
 * expires, goes to the end of its ready list or, with a priority (field o,
 * kept), into its priority zset (setting the wake token as enqueue does), is
 * published and fed. Its follow-up (field u) was enqueued
 * when it finished, and is dropped so that it is not armed again; it is no
 * longer debounced (field b dropped). Returns
 * false for an unknown, expired or corrupt task or another state.
 * Shared by rerun.lua and dead-letters.lua.
 */
export const RERUN_FN = `
local function rerun(id, now, ttl)
  local key = BASE .. 't:' .. id
  local h = redis.call('HMGET', key, 'm', 'j', 'P', 'k', 'o', 'g')
  local s, v, a = parse_m(h[1])
  if not (s == 'FAILURE' or s == 'REVOKED') then return false end
  local queue = queue_of(h[2])
  if not queue then return false end
  v = tostring(v + 1)
  redis.call('HSET', key, 'm', pack_m('PENDING', v, a, 0, now, '', '', '', ''))
  redis.call('HDEL', key, 'E', 'R', 'u', 'b')
  redis.call('PERSIST', key)
  if h[4] then
    -- the idempotency key names this task again for as long as it is kept
    local ikey = BASE .. 'i:' .. h[4]
    local owner = redis.call('GET', ikey)
    if owner == id then redis.call('PERSIST', ikey) elseif not owner then redis.call('SET', ikey, id) end
  end
  requeue(queue_keys(queue), queue, id, priority_of(h[5]), h[6])
  local function build()
    return info_json(id, h[2], 'PENDING', v, a, '0', now, '', '', false, h[3], false)
  end
  publish_if_watched(id, build)
  feed(id, h[2], ttl, now, now, build)
  return true
end
`;

export const RERUN_LUA = script(
  `
-- rerun.lua: BackendAdmin.retryTasks, see rerun() below.
-- KEYS[1] BASE leases (unused: routes the call to the prefix's cluster slot)
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] resultTtlMs (tag feeds), ARGV[4..] task ids
-- Touches BASE t:<id>, BASE i:<key>, the task's queue keys (q:, w:, and d: / qp: for a priority) and its
-- tag keys (known only once the task is read; built here, see common.ts).
-- Returns the ids it moved, in ARGV order.
`,
  `${RERUN_FN}
local moved = {}
for i = 4, #ARGV do
  if rerun(ARGV[i], ARGV[2], ARGV[3]) then moved[#moved + 1] = ARGV[i] end
end
return moved
`,
);
