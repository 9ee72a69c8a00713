import { script } from './common.js';

/**
 * Stores new tasks (PENDING, version 1) and makes them claimable: due ones
 * appended to their queue's ready list (or, with a priority other than 0,
 * added to its priority zset), the others into its delayed zset.
 * The PENDING event is not published on the task's status channel: nobody
 * can subscribe to an id before enqueue has returned it (a watcher reads the
 * snapshot first). A tagged task's enqueue is a change of its tag feeds.
 */
export const ENQUEUE_LUA = script(
  `
-- enqueue.lua: store a batch of new tasks atomically.
-- KEYS: for each distinct queue q of the batch (0-based), KEYS[4q+1] = BASE q:<queue> (ready list),
--       KEYS[4q+2] = BASE d:<queue> (delayed zset), KEYS[4q+3] = BASE w:<queue> (wake token),
--       KEYS[4q+4] = BASE qp:<queue> (priority zset)
-- ARGV[1] BASE ('{prefix}:'), ARGV[2] now (ms), ARGV[3] resultTtlMs (tag feeds),
-- ARGV[4] F: how many distinct static fragments follow
-- ARGV[5 .. 4+4F] per fragment: the static JSON fragment (field j: name, queue, tags),
--           its queue index q+1, the priority of its tasks ('' for 0), followed for aging
--           tasks by '@' .. everyMs .. '|' .. step .. '|' .. max (field a), and the enqueue
--           time (field e) (tasks of a batch share a few: each is sent once)
-- then 9 per task: id, fragment index (1-based), payload, runAt, expiresAt or '',
--           '=' .. idempotency key or '' (the '=' marks a key, which may be empty), or for a
--           debounced task '~' .. replace (0|1) .. maxRunAt (digits, may be empty) .. '|' .. debounce key,
--           follow-up JSON (field u) or '', trace context (field c) or '',
--           flow control (field g, see common.ts) or ''
-- Touches per task BASE t:<id>, BASE i:<key> or BASE b:<key>, BASE ag for an aging task, and, for a tagged task, its tag keys (built here, see common.ts).
-- Returns {outcomes, id, ...}: outcomes has one character per task, in task order: '1' created,
-- '0' the key's known task (same name and payload) or the debounced task it folded into, '2' the key's known task, enqueued with
-- another name or payload; then the id of that known task for each task not created, in order.
`,
  `
local now = tonumber(ARGV[2])
local ttl = ARGV[3]
local nf = tonumber(ARGV[4])
local fragments, fragment_queue, fragment_tagged, fragment_priority, fragment_aging = {}, {}, {}, {}, {}
local fragment_enqueued = {}
for f = 1, nf do
  fragments[f] = ARGV[1 + 4 * f]
  fragment_queue[f] = tonumber(ARGV[2 + 4 * f])
  fragment_tagged[f] = tags_of(fragments[f]) ~= nil
  local p, rule = string.match(ARGV[3 + 4 * f], '^([^@]*)@?(.*)$')
  fragment_priority[f] = priority_of(p)
  fragment_aging[f] = rule ~= '' and rule
  fragment_enqueued[f] = ARGV[4 + 4 * f]
end
-- the task name in a fragment; false when it cannot be read (a corrupt record differs from anything)
local function name_of(fragment)
  if not fragment then return false end
  local ok, fixed = pcall(cjson.decode, '{' .. fragment .. '}')
  return ok and type(fixed) == 'table' and fixed.name or false
end
-- NewTask.debounce from its argument, or nil
local function debounce_of(spec)
  local replace, cap, key = string.match(spec, '^~([01])(%d*)|(.*)$')
  if not replace then return nil end
  return {replace = replace == '1', cap = cap, key = key}
end
-- The waiting, never handed out task of a debounce key takes this enqueue (NewTask.debounce):
-- its due time moves (if it is not due yet), its payload with replace; published. Its id, or false.
local function debounce_hit(db, payload, run_at)
  local bkey = BASE .. 'b:' .. db.key
  local id = redis.call('GET', bkey)
  if not id then return false end
  local key = BASE .. 't:' .. id
  local h = redis.call('HMGET', key, 'm', 'j', 'b', 'o', 'g', 'P')
  local s, v, a, r, t, S, f, l, w = parse_m(h[1])
  if s ~= 'PENDING' or S ~= '' or not h[3] then return false end
  local at = tonumber(t)
  if at > now then
    local want = tonumber(run_at)
    local cap = tonumber(h[3])
    if cap and want > cap then want = cap end
    local queue = queue_of(h[2])
    if want ~= at and queue then
      local qk = queue_keys(queue)
      local member = delayed_member_of(id, priority_of(h[4]), h[5] and flow_of(h[5]))
      -- a due time already passed is promoted by the next claim like any other
      if redis.call('ZSCORE', qk.d, member) then
        t = string.format('%.0f', want)
        push_delayed(qk.d, qk.w, {t, member}, want)
      end
    end
  end
  v = tostring(v + 1)
  if db.replace then
    redis.call('HSET', key, 'm', pack_m(s, v, a, r, t, S, f, l, w), 'p', payload)
  else
    redis.call('HSET', key, 'm', pack_m(s, v, a, r, t, S, f, l, w))
  end
  redis.call('PEXPIRE', bkey, math.max(0, tonumber(t) - now) + tonumber(ttl))
  local function build()
    return info_json(id, h[2], 'PENDING', v, a, r, t, S, f, false, h[6], false)
  end
  publish_if_watched(id, build)
  feed(id, h[2], ttl, t, now, build)
  return id
end
local outcomes = {}
local known_ids = {}
local ready = {}
local ranked = {}
local delayed = {}
local earliest = {}
for i = 5 + 4 * nf, #ARGV, 9 do
  local id, fi, payload, run_at = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3]
  local expires, ikey, u, c, g = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8]
  local j, qi, priority, aging = fragments[fi], fragment_queue[fi], fragment_priority[fi], fragment_aging[fi]
  local e = fragment_enqueued[fi]
  local db = string.byte(ikey, 1) == 126 and debounce_of(ikey)
  local has_key = ikey ~= '' and not db
  if has_key then ikey = string.sub(ikey, 2) end
  local existing = false
  local outcome = '0'
  if db then
    existing = debounce_hit(db, payload, run_at)
  elseif has_key then
    existing = redis.call('GET', BASE .. 'i:' .. ikey)
    if existing then
      -- an expired task hash is gone: its key is free again
      local known = redis.call('HMGET', BASE .. 't:' .. existing, 'p', 'j')
      if not known[1] then
        existing = false
      elseif known[1] ~= payload or name_of(known[2]) ~= name_of(j) then
        outcome = '2'
      end
    end
  end
  if existing then
    outcomes[#outcomes + 1] = outcome
    known_ids[#known_ids + 1] = existing
  else
    local m = pack_m('PENDING', 1, 0, 0, run_at, '', '', '', '')
    if expires == '' and not has_key and not db and not aging and u == '' and c == '' and priority == 0 and g == '' then
      redis.call('HSET', BASE .. 't:' .. id, 'j', j, 'e', e, 'p', payload, 'm', m)
    else
      local fields = {'j', j, 'e', e, 'p', payload, 'm', m}
      if priority ~= 0 then fields[#fields + 1] = 'o'; fields[#fields + 1] = priority end
      if expires ~= '' then fields[#fields + 1] = 'x'; fields[#fields + 1] = expires end
      if u ~= '' then fields[#fields + 1] = 'u'; fields[#fields + 1] = u end
      if c ~= '' then fields[#fields + 1] = 'c'; fields[#fields + 1] = c end
      if g ~= '' then fields[#fields + 1] = 'g'; fields[#fields + 1] = g end
      if has_key then
        fields[#fields + 1] = 'k'; fields[#fields + 1] = ikey
        redis.call('SET', BASE .. 'i:' .. ikey, id)
      end
      if aging then
        fields[#fields + 1] = 'a'; fields[#fields + 1] = aging
        local every = tonumber(string.match(aging, '^(%d+)|'))
        if every then redis.call('ZADD', BASE .. 'ag', tonumber(run_at) + every, id) end
      end
      if db then
        fields[#fields + 1] = 'b'; fields[#fields + 1] = db.cap
        redis.call('SET', BASE .. 'b:' .. db.key, id, 'PX', math.max(0, tonumber(run_at) - now) + tonumber(ttl))
      end
      redis.call('HSET', BASE .. 't:' .. id, unpack(fields))
    end
    if fragment_tagged[fi] then
      feed(id, j, ttl, run_at, now, function()
        return info_json(id, j, 'PENDING', '1', '0', '0', run_at, '', '', false, false, false)
      end)
    end
    local at = tonumber(run_at)
    local fl = g ~= '' and flow_of(g)
    if db and at > now then
      -- at once, not with the batch: a later item of the batch may move it
      local member = delayed_member_of(id, priority, fl)
      push_delayed(KEYS[4 * qi - 2], KEYS[4 * qi - 1], {at, member}, at)
    elseif fl and at <= now then
      push_flow(queue_keys_at(4 * qi - 3), string.sub(KEYS[4 * qi - 3], #BASE + 3), id, priority, fl)
    elseif fl then
      local zs = delayed[qi]
      if not zs then zs = {}; delayed[qi] = zs end
      zs[#zs + 1] = at
      zs[#zs + 1] = flow_delayed_member(id)
      if not earliest[qi] or at < earliest[qi] then earliest[qi] = at end
    elseif at <= now and priority == 0 then
      local list = ready[qi]
      if not list then list = {}; ready[qi] = list end
      list[#list + 1] = id
    elseif at <= now then
      local zr = ranked[qi]
      if not zr then zr = {}; ranked[qi] = zr end
      zr[#zr + 1] = priority
      zr[#zr + 1] = id
    else
      local zs = delayed[qi]
      if not zs then zs = {}; delayed[qi] = zs end
      zs[#zs + 1] = at
      zs[#zs + 1] = delayed_member(id, priority)
      if not earliest[qi] or at < earliest[qi] then earliest[qi] = at end
    end
    outcomes[#outcomes + 1] = '1'
  end
end
for qi, ids in pairs(ready) do push_ready(KEYS[4 * qi - 3], KEYS[4 * qi - 1], ids) end
for qi, zr in pairs(ranked) do push_ranked(queue_keys_at(4 * qi - 3), zr) end
for qi, zs in pairs(delayed) do push_delayed(KEYS[4 * qi - 2], KEYS[4 * qi - 1], zs, earliest[qi]) end
local out = {table.concat(outcomes)}
for k = 1, #known_ids do out[k + 1] = known_ids[k] end
return out
`,
);
