import { script } from './common.js';

/**
 * Backend.agePriorities: the aging tasks whose time has come (BASE ag), as
 * core/aging.ts ageStep computes: a waiting due one owed raises leaves its
 * lane (the ready list, its priority zset, or the delayed zset a claim has
 * not promoted it from yet) for the end of its new one (field o updated);
 * the next look is scored in BASE ag (dropped at max, or once the task is
 * gone or finished; a running one is looked at again a period later).
 */
export const AGE_LUA = script(
  `
-- age.lua: raise the priorities aging tasks are owed.
-- KEYS[1] BASE ag. ARGV[1] BASE, ARGV[2] now (ms), ARGV[3] how many tasks at most.
-- Returns how many tasks were raised.
`,
  `
local now = tonumber(ARGV[2])
local raised = 0
local looked = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #looked, 2 do
  local id, next = looked[i], tonumber(looked[i + 1])
  local key = BASE .. 't:' .. id
  local h = redis.call('HMGET', key, 'm', 'j', 'o', 'a')
  local s, _, _, _, t = parse_m(h[1])
  local e, st, mx = string.match(h[4] or '', '^(%d+)|(%d+)|(-?%d+)$')
  local queue = queue_of(h[2])
  if not s or not e or not queue or is_finished(s) then
    redis.call('ZREM', KEYS[1], id)
  elseif is_running(s) then
    redis.call('ZADD', KEYS[1], now + tonumber(e), id)
  else
    e, st, mx = tonumber(e), tonumber(st), tonumber(mx)
    local since = math.max(tonumber(t), next - e)
    if since > now then
      redis.call('ZADD', KEYS[1], since + e, id)
    else
      local k = math.floor((now - since) / e)
      local p = priority_of(h[3])
      local np = math.max(p, math.min(mx, p + st * k))
      if np ~= p then
        local qk = queue_keys(queue)
        local out = redis.call('ZREM', qk.d, delayed_member(id, p))
        if p == 0 then out = out + redis.call('LREM', qk.q, 1, id) else out = out + redis.call('ZREM', qk.p, id) end
        if np == 0 then redis.call('HDEL', key, 'o') else redis.call('HSET', key, 'o', np) end
        -- a task found in no lane is not there to move (it is on its way elsewhere)
        if out > 0 then push_ready_task(qk, id, np) end
        raised = raised + 1
      end
      if np >= mx then redis.call('ZREM', KEYS[1], id)
      else redis.call('ZADD', KEYS[1], string.format('%.0f', since + (k + 1) * e), id) end
    end
  end
end
return raised
`,
);
