import { script } from './common.js';

/**
 * The claim without its final `return out` (the reply table), so that
 * claim-finish.ts can run it after a batch ack and add to the reply.
 */
export const CLAIM_MAIN = `
local now = tonumber(ARGV[2])
local worker = ARGV[3]
local now_s = ARGV[2]
local lease_until = tostring(lease_end(now, tonumber(ARGV[4])))
local limit = tonumber(ARGV[5])
local ttl = ARGV[6]
local promote = tonumber(ARGV[7])
local EXPIRED = '{"type":"TaskExpired","message":"the task expired before it started"}'
local out = {-1}
local leases = {}
local n = 0
local more = false
-- the earliest time a rate-limited head becomes claimable (nil: none seen)
local rate_due = nil

local function decodes_to_table(json)
  local ok, value = pcall(cjson.decode, json)
  return ok and type(value) == 'table' and value or nil
end

-- The field that makes a claimable record unreadable, or nil.
local function unreadable(x, E, P)
  if x and not tonumber(x) then return 'x' end
  if E then
    local e = decodes_to_table(E)
    if not (e and type(e.type) == 'string' and type(e.message) == 'string') then return 'E' end
  end
  if P then
    local p = decodes_to_table(P)
    if not (p and type(p.current) == 'number') then return 'P' end
  end
  return nil
end

-- Leases a task and adds it to the reply (problem: '' or the unreadable field).
local function hand_out(key, id, h, v, a, r, t, f, problem)
  redis.call('HSET', key, 'm', pack_m('STARTED', v, a, r, t, now_s, f, lease_until, worker))
  leases[#leases + 1] = lease_until
  leases[#leases + 1] = id
  local o = #out
  out[o + 1] = id; out[o + 2] = static_of(h[2], h[9]); out[o + 3] = h[3]; out[o + 4] = a; out[o + 5] = r; out[o + 6] = problem
  out[o + 7] = h[7]
  n = n + 1
  -- a flow-controlled task holds its keys' slots while it runs
  if h[8] then
    local fl = flow_of(h[8])
    if fl then
      take_slots(fl)
      if #fl.r > 0 then rate_take(fl, now, id) end
    end
  end
end
-- One popped id: handed out when due and waiting; an expired one ends REVOKED;
-- a stale entry (revoked or finished task) is dropped.
local function take(id, delayed)
  local key = BASE .. 't:' .. id
  local h = redis.call('HMGET', key, 'm', 'j', 'p', 'x', 'E', 'P', 'c', 'g', 'e')
  local s, v, a, r, t, S, f = parse_m(h[1])
  local bad = (s == 'PENDING' or s == 'RETRY') and tonumber(t) <= now and unreadable(h[4], h[5], h[6])
  if not s and (h[1] or h[2] or h[3]) then
    -- m missing or garbage: start it afresh, so that the worker can dead-letter it
    hand_out(key, id, h, '1', '1', '0', now_s, '', 'm')
  elseif bad then
    hand_out(key, id, h, tostring(v + 1), tostring(a + 1), r, t, f, bad)
  elseif s then
    if s == 'PENDING' or s == 'RETRY' then
      if tonumber(t) > now then
        -- not due (cannot happen through this protocol): keep it delayed
        local member = h[8] and flow_delayed_member(id) or delayed_member(id, priority_of(redis.call('HGET', key, 'o')))
        redis.call('ZADD', delayed, t, member)
      elseif h[4] and tonumber(h[4]) <= now then
        v = v + 1
        redis.call('HSET', key, 'm', pack_m('REVOKED', v, a, r, t, S, now, '', ''), 'E', EXPIRED)
        -- the rare path reads the fields the hot one does not need
        local ku = redis.call('HMGET', key, 'k', 'u')
        expire_finished(key, ku[1], ttl)
        local function build()
          return info_json(id, h[2], 'REVOKED', v, a, r, t, S, now, EXPIRED, h[6], false)
        end
        publish_if_watched(id, build)
        feed(id, h[2], ttl, now, now, build)
        follow_up(ku[2], now_s)
      else
        v = tostring(v + 1)
        a = tostring(a + 1)
        hand_out(key, id, h, v, a, r, t, f, '')
        local function build()
          return info_json(id, h[2], 'STARTED', v, a, r, t, now_s, f, h[5], h[6], false)
        end
        publish_if_watched(id, build)
        feed(id, h[2], ttl, now, now, build)
      end
    end
    -- other states: a stale entry (revoked or finished task): dropped
  end
end

-- Takes from the priority zset until the batch is full, only entries scored under
-- the bound (nil: any). Returns true when it found the zset empty.
local function take_ranked(qk, below)
  while n < limit do
    local want = limit - n
    local z = redis.call('ZPOPMIN', qk.p, want)
    local back = {}
    for i = 1, #z, 2 do
      if below and tonumber(z[i + 1]) >= below then
        back[#back + 1] = z[i + 1]
        back[#back + 1] = z[i]
      else
        take(z[i], qk.d)
      end
    end
    if #back > 0 then
      -- popped past the tasks of priority > 0: the others go back with their scores
      redis.call('ZADD', qk.p, unpack(back))
      return false
    end
    if #z < 2 * want then return true end
  end
  return false
end

-- The priority of the plain lanes' next task and its lane ('z' or 'q'), or nil.
local function plain_head(qk, ranked)
  local top = nil
  if ranked then
    local z = redis.call('ZRANGE', qk.p, 0, 0, 'WITHSCORES')
    if z[1] then top = MAX_PRIORITY - math.floor(tonumber(z[2]) / SEQ_SPAN) end
  end
  if top and top > 0 then return top, 'z' end
  if redis.call('LLEN', qk.q) > 0 then return 0, 'q' end
  if top then return top, 'z' end
  return nil
end

-- A queue with flow work (see common.ts): the groups of the rotation in turn,
-- priority first; a group whose head's limits are full waits (its other tasks
-- behind it), the others are served. The plain tasks of a priority are its
-- group ''.
local ROTATION_PAGE = 100
local function claim_flow(qk, queue, ranked)
  local fr = BASE .. 'fr:' .. queue
  local blocked = {}
  -- the rotation is walked by score from a cursor, a page at a time: a group that got a
  -- task moves behind the cursor's later groups of its priority (a new turn), one that is
  -- blocked stays in front of it, so no group is read twice for nothing (reading the whole
  -- rotation for every task made a claim O(groups x tasks))
  local cursor = '-inf'
  while n < limit do
    local pp, lane = plain_head(qk, ranked)
    if pp then redis.call('ZADD', fr, 'NX', flow_score(pp, queue), flow_member(pp, '')) end
    local groups = redis.call('ZRANGEBYSCORE', fr, cursor, '+inf', 'WITHSCORES', 'LIMIT', 0, ROTATION_PAGE)
    if #groups == 0 then break end
    local progress = false
    for i = 1, #groups, 2 do
      local member = groups[i]
      local prev_cursor = cursor
      cursor = '(' .. groups[i + 1]
      if not blocked[member] then
        local p = MAX_PRIORITY - math.floor(tonumber(groups[i + 1]) / SEQ_SPAN)
        local list = flow_list(queue, member)
        local got = false
        while true do
          local id = redis.call('LINDEX', list, 0)
          if not id then break end
          local hg = redis.call('HMGET', BASE .. 't:' .. id, 'm', 'g')
          local s = parse_m(hg[1])
          local fl = flow_of(hg[2])
          if (s == 'PENDING' or s == 'RETRY') and fl then
            if not slots_free(fl) then break end
            if #fl.r > 0 then
              local at = rate_ready_at(fl, now)
              if at > now then
                if not rate_due or at < rate_due then rate_due = at end
                break
              end
            end
          end
          redis.call('LPOP', list)
          progress = true
          local before = n
          take(id, qk.d)
          if n > before then
            got = true
            break
          end
        end
        local plain = pp == p and member == flow_member(p, '')
        if not got and plain then
          local popped
          if lane == 'q' then popped = redis.call('LPOP', qk.q, 1)
          else
            local z = redis.call('ZPOPMIN', qk.p, 1)
            popped = z[1] and {z[1]} or false
          end
          if popped then
            progress = true
            local before = n
            take(popped[1], qk.d)
            got = n > before
          end
        end
        if got then
          if redis.call('LLEN', list) == 0 and not plain then
            redis.call('ZREM', fr, member)
          else
            redis.call('ZADD', fr, 'XX', flow_score(p, queue), member)
          end
          break
        elseif progress then
          -- stale entries dropped, nothing taken yet: this group again
          cursor = prev_cursor
          break
        elseif redis.call('LLEN', list) == 0 and not plain then
          redis.call('ZREM', fr, member)
        else
          blocked[member] = true
        end
      end
    end
    -- nothing in this page moved: the next page, if there is one
    if not progress and #groups < 2 * ROTATION_PAGE then break end
  end
  if redis.call('ZCARD', fr) == 0 then redis.call('ZREM', qk.d, FLOW_SENTINEL) end
  if ranked and redis.call('ZCARD', qk.p) == 0 then redis.call('ZREM', qk.d, SEP) end
end

local nq = (#KEYS - 2) / 4
-- the queue name is the ready list's key after BASE .. 'q:'
local paused = {}
for q = 0, nq - 1 do
  paused[q] = redis.call('SISMEMBER', KEYS[2], string.sub(KEYS[4 * q + 3], #BASE + 3)) == 1
end
for q = 0, nq - 1 do
  -- a paused queue: skipped
  if not paused[q] then
    local qk = queue_keys_at(4 * q + 3)
    local ranked = false
    local flow = false
    local due = redis.call('ZRANGE', qk.d, '-inf', now, 'BYSCORE', 'LIMIT', 0, promote)
    if #due > 0 then
      local members, list, zr, fd = {}, {}, {}, {}
      for _, member in ipairs(due) do
        local id, p, flowed = parse_delayed(member)
        if not id and flowed then
          -- the flow sentinel: the rotation holds groups
          flow = true
        elseif not id then
          -- the sentinel: the priority zset holds tasks
          ranked = true
        elseif flowed then
          members[#members + 1] = member
          fd[#fd + 1] = id
        else
          members[#members + 1] = member
          if p == 0 then
            list[#list + 1] = id
          else
            zr[#zr + 1] = p
            zr[#zr + 1] = id
          end
        end
      end
      if #members > 0 then redis.call('ZREM', qk.d, unpack(members)) end
      if #list > 0 then push_ready(qk.q, qk.w, list) end
      if #zr > 0 then
        push_ranked(qk, zr)
        ranked = true
      end
      for _, id in ipairs(fd) do
        local ho = redis.call('HMGET', BASE .. 't:' .. id, 'g', 'o')
        local fl = flow_of(ho[1])
        if fl then push_flow(qk, string.sub(KEYS[4 * q + 3], #BASE + 3), id, priority_of(ho[2]), fl)
        else push_ready_task(qk, id, priority_of(ho[2])) end
        flow = true
      end
      if #due == promote then more = true end
    end
    if flow then
      claim_flow(qk, string.sub(KEYS[4 * q + 3], #BASE + 3), ranked)
    else
      local emptied = ranked and take_ranked(qk, ABOVE_ZERO)
      while n < limit do
        local want = limit - n
        local popped = redis.call('LPOP', qk.q, want)
        if not popped then break end
        for _, id in ipairs(popped) do take(id, qk.d) end
        if #popped < want then break end
      end
      if ranked and not emptied and n < limit then emptied = take_ranked(qk, nil) end
      -- the zset found empty: its sentinel goes (and the seqs start again)
      if emptied then redis.call('ZREM', qk.d, SEP) end
    end
    if limit > 0 and n >= limit then
      -- the list may hold more: pass the wake token on to another waiting claimer
      redis.call('ZADD', qk.w, 0, 'w')
      break
    end
  end
end
for i = 1, #leases, 1000 do
  redis.call('ZADD', KEYS[1], unpack(leases, i, math.min(i + 999, #leases)))
end
if n == 0 then
  if more then
    out[1] = now
  else
    for q = 0, nq - 1 do
      local at = not paused[q] and earliest_due(KEYS[4 * q + 4])
      if at and (out[1] < 0 or at < out[1]) then out[1] = at end
    end
  end
  if rate_due and (out[1] < 0 or rate_due < out[1]) then out[1] = rate_due end
end
`;

export const CLAIM_LUA = script(
  `
-- claim.lua: lease up to ARGV[5] due tasks from the given queues, in order.
-- KEYS[1] BASE leases (zset id -> lease end), KEYS[2] BASE paused (set of paused queues)
-- KEYS: for each queue j (0-based), KEYS[4j+3] = BASE q:<queue> (ready list),
--       KEYS[4j+4] = BASE d:<queue> (delayed zset), KEYS[4j+5] = BASE w:<queue> (wake token),
--       KEYS[4j+6] = BASE qp:<queue> (priority zset)
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] workerId, ARGV[4] leaseMs, ARGV[5] limit,
-- ARGV[6] resultTtlMs, ARGV[7] how many due delayed tasks to promote per queue and call
-- Touches BASE t:<id>, BASE i:<key> of popped tasks, the tag keys of tagged ones and
-- the keys of an expired task's follow-up (built here, see common.ts).
-- A paused queue is skipped (one SISMEMBER per queue): nothing promoted, popped or
-- counted for nextDue, so a claimer does not spin on its due tasks.
-- Moves due delayed tasks to the ready list (or the priority zset) first (a
-- delayed task is never ready before it is due). Per queue, hands out the
-- priority zset's tasks of priority > 0, then the ready list, then the zset's
-- tasks of priority < 0. The zset is looked at only when the delayed read saw
-- its sentinel (see common.ts), so a queue without priorities pays nothing
-- for them. Expired tasks end REVOKED (TaskExpired).
-- A corrupt record (m missing or garbage, x no number, E or P unreadable) is
-- leased like a due task and handed out with its problem, so that the worker
-- dead-letters it; j and p are checked by the caller.
-- Returns {nextDue (-1: none; only computed when nothing was claimed),
--          then 7 per task: id, static JSON fragment, payload, attempt, retries,
--          '' or the field of a corrupt record that cannot be read, trace context or nil}.
`,
  `${CLAIM_MAIN}
return out
`,
);
