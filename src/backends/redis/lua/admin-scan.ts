import { script } from './common.js';

/**
 * One SCAN step over the prefix's task hashes, for the admin queries
 * (overview, listTasks): there is no index of tasks by state or time, so a
 * query reads every task once, in batches (O(tasks) per query; none of it is
 * on the task hot path). Only the small fields m and j are read; the caller
 * decodes them with codec.ts, as getInfo does.
 */
export const ADMIN_SCAN_LUA = script(
  `
-- admin-scan.lua: one SCAN step over BASE t:*, returning the state record and static fragment of each task.
-- KEYS[1] BASE paused (only so that a cluster client routes the call to the prefix's slot)
-- ARGV[1] BASE, ARGV[2] SCAN cursor, ARGV[3] MATCH pattern (BASE t:*, escaped), ARGV[4] COUNT,
-- ARGV[5] '' or a state: then only records whose m holds that state, or cannot be read, are returned
-- Expired task hashes are gone (PEXPIRE), so SCAN does not see them.
-- Returns {next cursor, then 3 per task: id, m or false, j (with field e's enqueue time added) or false}.
`,
  `
local reply = redis.call('SCAN', ARGV[2], 'MATCH', ARGV[3], 'COUNT', ARGV[4])
local want = ARGV[5]
local skip = #BASE + 2
local out = {reply[1]}
for _, key in ipairs(reply[2]) do
  local h = redis.call('HMGET', key, 'm', 'j', 'e')
  if h[1] or h[2] then
    local s = parse_m(h[1])
    if want == '' or not s or s == want then
      out[#out + 1] = string.sub(key, skip + 1)
      out[#out + 1] = h[1]
      out[#out + 1] = static_of(h[2], h[3])
    end
  end
end
return out
`,
);
