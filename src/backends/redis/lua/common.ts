/**
 * Lua helpers shared by every errand script. Each script's source is its own
 * header comment (KEYS/ARGV), then this block, then its body; one script per
 * atomic operation.
 *
 * Key layout (BASE = ARGV[1] = '{prefix}:', hash-tagged so one prefix lives
 * in one cluster slot):
 *   BASE t:<id>        hash, one per task (fields below)
 *   BASE i:<key>       string, idempotency key -> task id
 *   BASE b:<key>       string, debounce key -> the task it last named (which absorbs
 *                      enqueues while it waits, never handed out, with field b); expires
 *                      resultTtlMs after that task's due time
 *   BASE q:<queue>     list, ready task ids of priority 0 in due order
 *   BASE qp:<queue>    zset, ready task ids of another priority (field o), scored
 *                      (MAX_PRIORITY - priority) * 2^42 + seq: higher priority first,
 *                      first in first out within one (seq: see the sentinel below);
 *                      only exists while such tasks wait. A claim takes a queue's
 *                      scores below MAX_PRIORITY * 2^42 (priority > 0) first, then
 *                      the list, then the rest (priority < 0)
 *   BASE d:<queue>     zset, delayed tasks scored by runAt; a member is the task id,
 *                      or SEP .. priority .. SEP .. id (SEP = byte 1) for a task with a
 *                      priority (or an id starting with SEP), so that promotion
 *                      knows the lane without reading the task. The member SEP
 *                      alone, scored -seq, is the sentinel: present whenever qp:<queue>
 *                      is non-empty (a claim sees it in the delayed read it makes
 *                      anyway, so a queue without priorities costs no extra command),
 *                      and its score counts the pushes into qp:<queue> (ZINCRBY) since
 *                      qp:<queue> was last found empty
 *   BASE w:<queue>     zset with the single member 'w': the wake-up token a
 *                      blocked claim waits for (BZPOPMIN); a set, so it never piles up
 *   BASE leases        zset, leased (running) task ids scored by lease end
 *   BASE dead          list, dead letters (JSON), newest first, capped
 *   BASE tagc          string, the tag-feed cursor: INCR'd once per change of
 *                      a tagged task (one counter for all tags, never expires,
 *                      so a tag's cursors only grow even after its zset expired)
 *   BASE tz:<tag>      zset, task id -> cursor of its latest change (ZADD moves
 *                      it). Bounded: the oldest beyond TAG_FEED_CAP (10,000) are
 *                      trimmed (once per script call, so a batch may overshoot
 *                      until the next call), and each call PEXPIREs it to at least
 *                      resultTtlMs (plus the wait of a task due later): a tag
 *                      nobody changes for that long drops out of its feed
 *   BASE ag            zset, aging tasks (field a) scored by when agePriorities looks at each next
 *   BASE paused        set, paused queue names (claim skips them; BackendAdmin)
 *   BASE r:<kind>      hash, bookkeeping records of a kind: id -> JSON
 *   BASE rx:<kind>     zset, the same ids scored by expiry time (lua/bookkeeping.ts)
 *   BASE c:<bucket>    hash, counters of a time bucket (expires by itself)
 *   BASE cb            zset, counter buckets scored by the time each is dropped
 *   BASE l:<kind>      list, an admin log (JSON entries), newest first, capped
 *   channel BASE status:<id>  TaskInfo JSON after every transition
 *   channel BASE revoked      ids of running tasks that were revoked
 *   channel BASE tag:<tag>    '<cursor> <TaskInfo JSON>' after every change of
 *                      a task carrying the tag (only while someone listens)
 *
 * Task hash fields (few and short: Redis pays per field read and written):
 *   j  the static part of the TaskInfo as a JSON fragment, encoded once at
 *      enqueue: "name":…,"queue":…[,"tags":[…]]. The tags come last and only
 *      when there are any, so a fragment ending in ']' is how a script knows a
 *      task is tagged without reading another field. Records written before
 *      field e carry ,"enqueuedAt":… in j, before the tags
 *   e  the enqueue time (ms): not in j, so that j stays under 64 bytes for
 *      names and queues up to about 45 characters
 *   p  payload
 *   m  the mutable part, packed: state|version|attempts|retries|runAt|
 *      startedAt|finishedAt|leaseUntil|owner, where state is one letter
 *      (STATE_CODES), the three later times are ms after runAt, and owner is
 *      the lease owner's token (codec.ts ownerToken: the worker id hashed to
 *      12 characters), empty = unset. Kept under 64 bytes, like every field
 *      of a small task, so that Redis stores the hash as a listpack (about
 *      half the memory of a hashtable, which a hash becomes for good once one
 *      value is longer). Records written before this layout (full state
 *      names, absolute times, the worker id) are read as well.
 *   x  expiresAt, k  idempotency key (only when set)
 *   b  a debounced task's maxRunAt ('' for none), only while it may absorb enqueues
 *   a  NewTask.aging as everyMs|step|max, only when set
 *   c  the trace context (NewTask.trace), only when set; handed back by claim
 *   u  the follow-up (JSON {id,name,queue,payload}), only when set; read by
 *      the terminal paths, which enqueue it (see follow_up below)
 *   o  the priority (NewTask.priority), only when not 0; read where a task goes
 *      back to its queue (retry, release, rescue, rerun, revoke's unqueueing).
 *      Garbage reads as 0: a priority only orders, it never stops a task
 *   R  result JSON, E  error JSON, P  progress JSON (once set)
 *
 * Per-task keys (t:, i:), tag keys (tagc, tz:, tag:), a follow-up's keys
 * (its t: and queue keys) and, in rescue/revoke/rerun, the queue keys of a task are
 * built inside the scripts from BASE instead of being passed in KEYS: they are
 * only known once the task is read. They share BASE's hash tag, so every key a
 * script touches is in the same cluster slot.
 */
export const COMMON_LUA = `
local BASE = ARGV[1]
local M_PATTERN = '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$'
-- the compact layout: the pattern checks the numbers itself (tonumber on each costs more than the match)
local M_COMPACT = '^(%l)|(%d+)|(%d+)|(%d+)|(%d+)|([%-%d]*)|([%-%d]*)|([%-%d]*)|(.*)$'
local STATES = {PENDING = true, STARTED = true, PROGRESS = true, RETRY = true, SUCCESS = true, FAILURE = true, REVOKED = true}
-- one letter per state in m (codec.ts STATE_CODES says the same)
local STATE_CODES = {PENDING = 'p', STARTED = 's', PROGRESS = 'g', RETRY = 'r', SUCCESS = 'k', FAILURE = 'f', REVOKED = 'x'}
local STATE_NAMES = {}
for name, code in pairs(STATE_CODES) do STATE_NAMES[code] = name end

-- A lease ends leaseMs after the later of the worker's clock (ARGV) and the
-- server's: a command delayed in the server (CLIENT PAUSE, a slow script
-- ahead of it, a failover) must not hand out a lease that already ended.
local function lease_end(worker_now, lease_ms)
  local t = redis.call('TIME')
  local server_now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  return math.max(worker_now, server_now) + lease_ms
end

local function optional_number(x)
  return x == '' or tonumber(x) ~= nil
end

-- A time of m, stored as ms after runAt ('' stays unset), and back. Times come out of
-- parse_m as numbers (formatting a 13-digit number costs more than the rest of a parse);
-- concatenation prints them exactly (%.14g).
local function after_run(x, t)
  if x == '' then return '' end
  return x - t
end
local function from_run(tn, x)
  if x == '' then return '' end
  local d = tonumber(x)
  return d and tn + d
end

-- m -> state, version, attempts, retries, runAt, startedAt, finishedAt, leaseUntil, owner
-- (state names; runAt as stored, the later times absolute, whichever layout m was written in);
-- nothing when m is missing or garbage (a corrupt record: no script does arithmetic on it)
local function parse_m(m)
  if not m then return nil end
  local c, v, a, r, t, S, f, l, w = string.match(m, M_COMPACT)
  local name = c and STATE_NAMES[c]
  if name then
    local tn = tonumber(t)
    S, f, l = from_run(tn, S), from_run(tn, f), from_run(tn, l)
    if not (S and f and l) then return nil end
    return name, v, a, r, t, S, f, l, w
  end
  -- the layout before: full state names, absolute times
  local s
  s, v, a, r, t, S, f, l, w = string.match(m, M_PATTERN)
  if not (s and STATES[s] and tonumber(v) and tonumber(a) and tonumber(r) and tonumber(t)
    and optional_number(S) and optional_number(f) and optional_number(l)) then
    return nil
  end
  return s, v, a, r, t, S, f, l, w
end

local function pack_m(s, v, a, r, t, S, f, l, w)
  return STATE_CODES[s] .. '|' .. v .. '|' .. a .. '|' .. r .. '|' .. t .. '|' .. after_run(S, t) .. '|'
    .. after_run(f, t) .. '|' .. after_run(l, t) .. '|' .. w
end

local function is_running(s)
  return s == 'STARTED' or s == 'PROGRESS'
end

local function is_finished(s)
  return s == 'SUCCESS' or s == 'FAILURE' or s == 'REVOKED'
end

local function json_string(s)
  if string.find(s, '[%c"\\\\]') then return cjson.encode(s) end
  return '"' .. s .. '"'
end

-- The TaskInfo as JSON; stored JSON (j, result, error, progress) is embedded as it is.
-- One concatenation (Lua interns every intermediate string); callers pass
-- numbers already as strings where they can (a number costs a sprintf).
-- A missing j (a corrupt record) leaves the name, queue and enqueue time out.
-- j with the enqueue time of field e added, as the TaskInfo and the claim's reply carry it
-- (a record written before field e has it in j already, and no e; an e that is no
-- number is left out, so that the reader reports field e)
local function static_of(j, e)
  if j and e and tonumber(e) then return j .. ',"enqueuedAt":' .. e end
  return j
end

-- Builds the TaskInfo JSON; the enqueue time is read here (field e), only when an event is built.
local function info_json(id, j, s, v, a, r, t, S, f, E, P, R)
  if j and not string.find(j, '"enqueuedAt":', 1, true) then j = static_of(j, redis.call('HGET', BASE .. 't:' .. id, 'e')) end
  return '{"id":' .. json_string(id) .. (j and ',' .. j or '') .. ',"state":"' .. s .. '","version":' .. v ..
    ',"attempts":' .. a .. ',"retries":' .. r .. ',"runAt":' .. t ..
    (S ~= '' and ',"startedAt":' .. S or '') .. (f ~= '' and ',"finishedAt":' .. f or '') ..
    (R and ',"result":' .. R or '') .. (E and ',"error":' .. E or '') ..
    (P and ',"progress":' .. P or '') .. '}'
end

-- PUBLISH the new TaskInfo on the task's channel; returns the JSON.
local function publish(id, json)
  redis.call('PUBLISH', BASE .. 'status:' .. id, json)
  return json
end

-- Publishes only when someone listens, and builds the message only then: a
-- watcher subscribes before it reads the snapshot, so one that is not yet
-- subscribed will read this state instead of hearing it.
local function publish_if_watched(id, build)
  local channel = BASE .. 'status:' .. id
  if redis.call('PUBSUB', 'NUMSUB', channel)[2] > 0 then
    redis.call('PUBLISH', channel, build())
  end
end

-- The queue named in j; nil when j is missing or unreadable.
local function queue_of(j)
  if not j then return nil end
  local ok, fixed = pcall(cjson.decode, '{' .. j .. '}')
  if ok and type(fixed) == 'table' and type(fixed.queue) == 'string' then return fixed.queue end
  return nil
end

-- A finished task (and its idempotency key) expires after the result TTL.
local function expire_finished(key, k, ttl)
  redis.call('PEXPIRE', key, ttl)
  if k then redis.call('PEXPIRE', BASE .. 'i:' .. k, ttl) end
end

-- A queue's keys (see the layout above): q ready list, d delayed zset, w wake token, p priority zset.
local function queue_keys(queue)
  return {q = BASE .. 'q:' .. queue, d = BASE .. 'd:' .. queue, w = BASE .. 'w:' .. queue, p = BASE .. 'qp:' .. queue}
end

-- The same from KEYS[i .. i+3] (the order RedisKeys.queueKeys passes them in).
local function queue_keys_at(i)
  return {q = KEYS[i], d = KEYS[i + 1], w = KEYS[i + 2], p = KEYS[i + 3]}
end

local MAX_PRIORITY = 1000
-- 2^42: seq stays below it (it starts again whenever the zset is found empty), so a
-- score is an integer below 2^53, exact in a double
local SEQ_SPAN = 4398046511104
-- scores below this are of priority > 0: a claim takes them before the ready list
local ABOVE_ZERO = MAX_PRIORITY * SEQ_SPAN
local SEP = string.char(1)
-- the flow sentinel (see flow control below): SEP SEP, scored 0 in d:<queue>
local FLOW_SENTINEL = SEP .. SEP

-- Field o as a priority: an integer from -MAX_PRIORITY to MAX_PRIORITY, else
-- (absent or garbage) 0.
local function priority_of(o)
  local p = tonumber(o)
  if not p or p ~= math.floor(p) or p < -MAX_PRIORITY or p > MAX_PRIORITY then return 0 end
  return p
end

-- A task's member in a delayed zset (see the layout above).
local function delayed_member(id, p)
  if p == 0 and string.byte(id, 1) ~= 1 then return id end
  return SEP .. p .. SEP .. id
end

-- A delayed zset member -> id, priority; nil for the sentinel.
local function parse_delayed(member)
  if string.byte(member, 1) ~= 1 then return member, 0 end
  if member == SEP then return nil end
  if member == FLOW_SENTINEL then return nil, 0, true end
  -- a flow-controlled task: SEP 'f' SEP id (its priority and group are in its hash)
  if string.byte(member, 2) == 102 and string.byte(member, 3) == 1 then return string.sub(member, 4), 0, true end
  local p, id = string.match(member, '^' .. SEP .. '(-?%d+)' .. SEP .. '(.*)$')
  if not p then return member, 0 end
  return id, priority_of(p)
end

-- The earliest due time in a delayed zset (the sentinel skipped), or nil.
local function earliest_due(delayed)
  local first = redis.call('ZRANGE', delayed, 0, 2, 'WITHSCORES')
  for i = 1, #first, 2 do
    if first[i] ~= SEP and first[i] ~= FLOW_SENTINEL then return tonumber(first[i + 1]) end
  end
  return nil
end

-- Appends ids to a ready list; the push that makes it non-empty sets the
-- wake token (a non-empty list already had its token, or a claimer is busy
-- on it and passes the token on itself).
local function push_ready(ready, wake, ids)
  for i = 1, #ids, 1000 do
    local chunk = {unpack(ids, i, math.min(i + 999, #ids))}
    local len = redis.call('RPUSH', ready, unpack(chunk))
    if len == #chunk then redis.call('ZADD', wake, 0, 'w') end
  end
end

-- Adds ready tasks of a priority other than 0, {priority, id, priority, id, ...}
-- in push order, to the queue's priority zset: one ZINCRBY on the sentinel hands
-- out their seqs (and creates it when the zset was empty), then ZADD and the wake
-- token (set on every such push: simpler than tracking when the zset was empty).
local function push_ranked(qk, ranked)
  local n = #ranked / 2
  if n == 0 then return end
  local last = -tonumber(redis.call('ZINCRBY', qk.d, -n, SEP))
  local args = {}
  for i = 1, #ranked, 2 do
    local seq = last - n + (i + 1) / 2
    args[i] = string.format('%.0f', (MAX_PRIORITY - ranked[i]) * SEQ_SPAN + seq)
    args[i + 1] = ranked[i + 1]
  end
  for i = 1, #args, 1000 do
    redis.call('ZADD', qk.p, unpack(args, i, math.min(i + 999, #args)))
  end
  redis.call('ZADD', qk.w, 0, 'w')
end

-- Puts one task, due now, in its lane: priority 0 at the end of the ready list,
-- another in the priority zset.
local function push_ready_task(qk, id, p)
  if p == 0 then push_ready(qk.q, qk.w, {id})
  else push_ranked(qk, {p, id}) end
end

-- Adds (score, member, score, member, ...) to a delayed zset (members from
-- delayed_member); sets the wake token when the earliest due time moved
-- earlier, so a blocked claim re-arms its timer.
local function push_delayed(delayed, wake, pairs_, earliest)
  local first = earliest_due(delayed)
  for i = 1, #pairs_, 1000 do
    redis.call('ZADD', delayed, unpack(pairs_, i, math.min(i + 999, #pairs_)))
  end
  if first == nil or earliest < first then redis.call('ZADD', wake, 0, 'w') end
end

-- The tags of a tagged task (its j ends with the tags array), else nil; a
-- garbage fragment counts as untagged. Cheap for untagged tasks: one byte read.
local function tags_of(j)
  if not j or string.byte(j, -1) ~= 93 then return nil end
  local ok, fixed = pcall(cjson.decode, '{' .. j .. '}')
  if not (ok and type(fixed) == 'table' and type(fixed.tags) == 'table') then return nil end
  local tags = {}
  for _, tag in ipairs(fixed.tags) do
    if type(tag) == 'string' then tags[#tags + 1] = tag end
  end
  if #tags == 0 then return nil end
  return tags
end

local TAG_FEED_CAP = 10000
-- Per tag, what this script call already did: trimmed, the expiry it set,
-- whether anyone listens (no subscription changes while a script runs).
-- A batch pays those once per tag, and two commands per change after that.
local fed = {}

-- Records a change of a tagged task in each of its tags' feeds (one new
-- cursor for all of them) and publishes it to their listeners; build()
-- returns the TaskInfo JSON and runs only when someone listens. The feed is
-- kept at least ttl ms, or until ttl ms after run_at for a task due later.
local function feed(id, j, ttl, run_at, now, build)
  local tags = tags_of(j)
  if not tags then return end
  local cursor = redis.call('INCR', BASE .. 'tagc')
  local keep = tonumber(ttl) + math.max(0, (tonumber(run_at) or 0) - tonumber(now))
  local json
  for _, tag in ipairs(tags) do
    local zset = BASE .. 'tz:' .. tag
    local channel = BASE .. 'tag:' .. tag
    redis.call('ZADD', zset, cursor, id)
    local done = fed[tag]
    if not done then
      -- trimmed once per call: a feed may exceed the cap by one batch until the next call
      redis.call('ZREMRANGEBYRANK', zset, 0, -TAG_FEED_CAP - 1)
      done = {keep = 0, watched = redis.call('PUBSUB', 'NUMSUB', channel)[2] > 0}
      fed[tag] = done
    end
    if keep > done.keep then
      if redis.call('PTTL', zset) < keep then redis.call('PEXPIRE', zset, keep) end
      done.keep = keep
    end
    if done.watched then
      json = json or build()
      redis.call('PUBLISH', channel, cursor .. ' ' .. json)
    end
  end
end

-- Puts one task (priority p) where claim finds it when due.
local function schedule(qk, id, p, run_at, now)
  if run_at <= now then push_ready_task(qk, id, p)
  else push_delayed(qk.d, qk.w, {run_at, delayed_member(id, p)}, run_at) end
end

-- Flow control (NewTask.group, limits and rateLimits): such a task has field g, JSON
-- {"g": group, "l": [[key, limit], ...], "r": [[key, limit, perMs], ...]}. A due one waits in its group's list
-- BASE fl:<queue> SEP <priority> SEP <group> (due order); the groups with
-- waiting tasks are in the rotation zset BASE fr:<queue>, member
-- <priority> SEP <group>, scored (MAX_PRIORITY - priority) * 2^42 + turn (turn:
-- INCR of BASE fn:<queue>), so a group that got a task goes behind the others
-- of its priority. The plain tasks of a priority join the rotation as the
-- group '' of that priority. BASE fk:<key> counts the running tasks holding a
-- key. Per rate key: BASE fz:<key> zset of its claim times (member time SEP id),
-- trimmed to the longest window seen for the key (BASE fw:<key>), and BASE fh:<key>
-- the time a hold (holdRateLimit) ends. The flow sentinel in d:<queue> tells a claim
-- the queue has flow work.
local function flow_of(g)
  if not g then return nil end
  local ok, fl = pcall(cjson.decode, g)
  if not (ok and type(fl) == 'table') then return nil end
  if type(fl.g) ~= 'string' then fl.g = '' end
  if type(fl.l) ~= 'table' then fl.l = {} end
  if type(fl.r) ~= 'table' then fl.r = {} end
  return fl
end

local function flow_member(p, group)
  return p .. SEP .. group
end

local function flow_list(queue, member)
  return BASE .. 'fl:' .. queue .. SEP .. member
end

local function flow_score(p, queue)
  local turn = redis.call('INCR', BASE .. 'fn:' .. queue)
  return string.format('%.0f', (MAX_PRIORITY - p) * SEQ_SPAN + turn)
end

-- Appends a due flow task to its group; a group new to the rotation joins at the back.
local function push_flow(qk, queue, id, p, fl)
  local member = flow_member(p, fl.g)
  local len = redis.call('RPUSH', flow_list(queue, member), id)
  if len == 1 then redis.call('ZADD', BASE .. 'fr:' .. queue, 'NX', flow_score(p, queue), member) end
  redis.call('ZADD', qk.d, 'NX', 0, FLOW_SENTINEL)
  redis.call('ZADD', qk.w, 0, 'w')
end

local function flow_delayed_member(id)
  return SEP .. 'f' .. SEP .. id
end

-- The member a task has in its delayed zset: a flow task's (fl: its parsed field g) or one by priority.
local function delayed_member_of(id, p, fl)
  if fl then return flow_delayed_member(id) end
  return delayed_member(id, p)
end

-- Puts a flow task where a claim finds it when due.
local function schedule_flow(qk, queue, id, p, fl, run_at, now)
  if run_at <= now then push_flow(qk, queue, id, p, fl)
  else push_delayed(qk.d, qk.w, {run_at, flow_delayed_member(id)}, run_at) end
end

local function slots_free(fl)
  for _, e in ipairs(fl.l) do
    local c = tonumber(redis.call('GET', BASE .. 'fk:' .. tostring(e[1]))) or 0
    if c >= (tonumber(e[2]) or 1) then return false end
  end
  return true
end

local function take_slots(fl)
  for _, e in ipairs(fl.l) do redis.call('INCR', BASE .. 'fk:' .. tostring(e[1])) end
end

-- The earliest time the task's rate limits let a claim take it (now when they do now).
local function rate_ready_at(fl, now)
  local at = now
  for _, e in ipairs(fl.r) do
    local key = tostring(e[1])
    local lim, per = tonumber(e[2]) or 1, tonumber(e[3]) or 1
    local hold = tonumber(redis.call('GET', BASE .. 'fh:' .. key))
    if hold and hold > at then at = hold end
    -- the lim-th newest claim within the window: while it is there, the window is full
    local recent = redis.call('ZRANGE', BASE .. 'fz:' .. key, '+inf', '(' .. (now - per), 'BYSCORE', 'REV',
      'LIMIT', lim - 1, 1, 'WITHSCORES')
    if recent[1] then
      local t = tonumber(recent[2]) + per
      if t > at then at = t end
    end
  end
  return at
end

-- Records a claim of a task with rate limits: once per key.
local function rate_take(fl, now, id)
  local longest = {}
  for _, e in ipairs(fl.r) do
    local key = tostring(e[1])
    local per = tonumber(e[3]) or 1
    if not longest[key] or per > longest[key] then longest[key] = per end
  end
  for key, per in pairs(longest) do
    local z = BASE .. 'fz:' .. key
    local w = BASE .. 'fw:' .. key
    local keep = math.max(per, tonumber(redis.call('GET', w)) or 0)
    redis.call('ZADD', z, now, now .. SEP .. id)
    redis.call('ZREMRANGEBYSCORE', z, '-inf', '(' .. (now - keep))
    redis.call('PEXPIRE', z, keep)
    redis.call('SET', w, keep, 'PX', keep)
  end
end

-- Blocks the task's rate keys until until_ms (a later hold extends, an earlier one does not shorten).
local function rate_hold(fl, now, until_ms)
  for _, e in ipairs(fl.r) do
    local k = BASE .. 'fh:' .. tostring(e[1])
    local cur = tonumber(redis.call('GET', k)) or 0
    if until_ms > cur and until_ms > now then
      redis.call('SET', k, string.format('%.0f', until_ms), 'PX', string.format('%.0f', until_ms - now))
    end
  end
end

-- A running flow task leaves the running states: its slots free, and its
-- queue's wake token is set (a claim may wait on a full key).
local function free_slots(g, queue)
  local fl = flow_of(g)
  if not fl then return end
  for _, e in ipairs(fl.l) do
    local k = BASE .. 'fk:' .. tostring(e[1])
    if redis.call('DECR', k) <= 0 then redis.call('DEL', k) end
  end
  if queue then redis.call('ZADD', BASE .. 'w:' .. queue, 0, 'w') end
end

-- Puts a task due now back in its queue: its group when it has field g.
local function requeue(qk, queue, id, p, g)
  local fl = flow_of(g)
  if fl then push_flow(qk, queue, id, p, fl) else push_ready_task(qk, id, p) end
end

-- Enqueues a finished task's follow-up (field u): PENDING, version 1, due
-- now, pushed with the wake token; an id that exists is left alone, and a
-- garbage u is ignored (a corrupt record must not stall the script).
local function follow_up(u, now)
  if not u then return end
  local ok, f = pcall(cjson.decode, u)
  if not (ok and type(f) == 'table' and type(f.id) == 'string' and type(f.name) == 'string'
    and type(f.queue) == 'string' and type(f.payload) == 'string') then
    return
  end
  local key = BASE .. 't:' .. f.id
  if redis.call('EXISTS', key) == 1 then return end
  local j = '"name":' .. json_string(f.name) .. ',"queue":' .. json_string(f.queue)
  redis.call('HSET', key, 'j', j, 'e', now, 'p', f.payload, 'm', pack_m('PENDING', 1, 0, 0, now, '', '', '', ''))
  push_ready(BASE .. 'q:' .. f.queue, BASE .. 'w:' .. f.queue, {f.id})
end
`;

/** Builds a script: header comment first, then the shared helpers, then the body. */
export function script(header: string, body: string): string {
  return `${header.trim()}\n${COMMON_LUA}\n${body.trim()}\n`;
}
