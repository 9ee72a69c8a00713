import { script } from './common.js';

export const COUNT_WAITING_LUA = script(
  `
-- count-waiting.lua: how many tasks of a queue wait (PENDING or RETRY, due or not), an upper bound
-- (revoked ids still in a list and the flow sentinel count until a claim drops them).
-- KEYS[1] q:<queue>, KEYS[2] d:<queue>, KEYS[3] qp:<queue>, KEYS[4] fr:<queue> (the fair groups' rotation)
-- ARGV[1] BASE, ARGV[2] queue
`,
  `
local n = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
local ranked = redis.call('ZCARD', KEYS[3])
-- the priority sentinel in d:<queue> is no task
if ranked > 0 then n = n + ranked - 1 end
for _, member in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  n = n + redis.call('LLEN', flow_list(ARGV[2], member))
end
return n
`,
);
