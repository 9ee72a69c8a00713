import { CLAIM_MAIN } from './claim.js';
import { script } from './common.js';
import { FINISH_BODY } from './finish.js';

export const CLAIM_FINISH_LUA = script(
  `
-- claim-finish.lua: a batch ack (finish.lua) and then a claim (claim.lua) in one
-- call, so a busy worker sends one command per task instead of two.
-- KEYS and ARGV[1..7] as claim.lua; ARGV[8] deadLetterLimit, ARGV[9..] the ops as
-- finish.lua's ARGV[5..] (the ack's KEYS: the same leases zset, BASE dead).
-- Returns {k, then k results as finish.lua's, then claim.lua's reply}.
`,
  `
local function finish_ops(KEYS, ARGV)
${FINISH_BODY}
end
local ack_argv = {ARGV[1], ARGV[2], ARGV[6], ARGV[8]}
for i = 9, #ARGV do ack_argv[#ack_argv + 1] = ARGV[i] end
local acked = finish_ops({KEYS[1], BASE .. 'dead'}, ack_argv)
${CLAIM_MAIN}
local reply = {#acked}
for i = 1, #acked do reply[i + 1] = acked[i] end
for i = 1, #out do reply[#reply + 1] = out[i] end
return reply
`,
);
