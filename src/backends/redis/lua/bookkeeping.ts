import { script } from './common.js';

/**
 * BackendAdmin's bookkeeping storage. Records of a kind: a hash id -> JSON
 * plus a zset id -> expiry time (listed without SCAN; both keys expire with
 * their latest record). Counters: a hash per time bucket that expires by
 * itself, indexed by a zset bucket -> drop time, so that readCounts reads
 * the buckets without SCAN. Times are the callers' clocks (ARGV).
 */
export const PUT_RECORDS_LUA = script(
  `
-- put-records.lua: store or replace records of one kind, each kept until ARGV[3].
-- KEYS[1] BASE r:<kind> (hash id -> JSON), KEYS[2] BASE rx:<kind> (zset id -> expiry)
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] expiry time, ARGV[4..] pairs: id, JSON
-- Drops the kind's expired records first. Returns 1.
`,
  `
local now = tonumber(ARGV[2])
local gone = redis.call('ZRANGE', KEYS[2], '-inf', now, 'BYSCORE')
for i = 1, #gone, 1000 do
  local chunk = {unpack(gone, i, math.min(i + 999, #gone))}
  redis.call('HDEL', KEYS[1], unpack(chunk))
  redis.call('ZREM', KEYS[2], unpack(chunk))
end
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[i])
end
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] then
  -- the kind's keys last as long as its latest record
  local keep = math.max(1, tonumber(last[2]) - now)
  redis.call('PEXPIRE', KEYS[1], keep)
  redis.call('PEXPIRE', KEYS[2], keep)
end
return 1
`,
);

export const LIST_RECORDS_LUA = script(
  `
-- list-records.lua: the unexpired records of one kind whose id starts with ARGV[3].
-- KEYS[1] BASE r:<kind>, KEYS[2] BASE rx:<kind>
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] id prefix ('' for all)
-- Returns {id, JSON, id, JSON, ...} in no particular order.
`,
  `
local prefix = ARGV[3]
local ids = redis.call('ZRANGE', KEYS[2], '(' .. ARGV[2], '+inf', 'BYSCORE')
local out = {}
for _, id in ipairs(ids) do
  if string.sub(id, 1, #prefix) == prefix then
    local json = redis.call('HGET', KEYS[1], id)
    if json then
      out[#out + 1] = id
      out[#out + 1] = json
    end
  end
end
return out
`,
);

export const ADD_COUNTS_LUA = script(
  `
-- add-counts.lua: add deltas to the counters of one time bucket.
-- KEYS[1] BASE c:<bucket> (hash counter -> value), KEYS[2] BASE cb (zset bucket -> drop time)
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] bucket, ARGV[4] drop time (bucket + retainMs),
-- ARGV[5..] pairs: counter, delta
-- The drop time is set when the bucket is created; a bucket past it is not kept. Returns 1.
`,
  `
local now = tonumber(ARGV[2])
local fresh = redis.call('EXISTS', KEYS[1]) == 0
for i = 5, #ARGV, 2 do
  local delta = tonumber(ARGV[i + 1])
  if delta == math.floor(delta) then
    redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  else
    redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if fresh then
  local drop = tonumber(ARGV[4])
  if drop <= now then
    redis.call('DEL', KEYS[1])
  else
    redis.call('PEXPIRE', KEYS[1], drop - now)
    redis.call('ZADD', KEYS[2], drop, ARGV[3])
  end
end
return 1
`,
);

export const READ_COUNTS_LUA = script(
  `
-- read-counts.lua: the kept counter buckets at or after ARGV[3].
-- KEYS[1] BASE cb
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] since
-- Touches BASE c:<bucket> of each bucket (named by the index; built here).
-- Returns {bucket, {counter, value, ...}, ...} in no particular order.
`,
  `
local since = tonumber(ARGV[3])
local out = {}
for _, bucket in ipairs(redis.call('ZRANGE', KEYS[1], '(' .. ARGV[2], '+inf', 'BYSCORE')) do
  if tonumber(bucket) >= since then
    local counts = redis.call('HGETALL', BASE .. 'c:' .. bucket)
    if #counts > 0 then
      out[#out + 1] = bucket
      out[#out + 1] = counts
    end
  end
end
return out
`,
);
