import { script } from './common.js';
import { RERUN_FN } from './rerun.js';

/** BackendAdmin's dead-letter actions by task id, and getTask's deadLettered check. */
export const DEAD_LETTERS_LUA = script(
  `
-- dead-letters.lua: find, drop or re-run the dead letters of some task ids.
-- KEYS[1] BASE dead (list of dead-letter JSON, newest first)
-- ARGV[1] BASE, ARGV[2] now, ARGV[3] resultTtlMs, ARGV[4] mode, ARGV[5..] task ids
-- mode 'has': returns 1 when a letter of ARGV[5] is stored, else 0.
-- mode 'drop': removes every letter of these ids; returns how many went.
-- mode 'retry': removes them, then per id that had one: rerun() when its task is kept
--   FAILURE or REVOKED, else, when the task is gone (expired), stores the newest letter's
--   message as a new PENDING task (version 1, due now, priority 0: a letter does not carry
--   one); returns the ids that had letters.
-- Touches, for 'retry', what rerun() touches and a restored task's BASE t:<id> and queue keys.
`,
  `${RERUN_FN}
local now, ttl, mode = ARGV[2], ARGV[3], ARGV[4]
local wanted = {}
for i = 5, #ARGV do wanted[ARGV[i]] = true end
-- deadLetter() writes each letter with its id first: read it without decoding the
-- whole letter (its payload) when the id needs no escaping
local function id_of(item)
  local id = string.match(item, '^{"id":"([^"\\\\]*)",')
  if id then return id end
  local ok, d = pcall(cjson.decode, item)
  if ok and type(d) == 'table' and type(d.id) == 'string' then return d.id end
  return nil
end
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local REMOVED = 'errand:removed'
local newest = {}
local removed = 0
for i, item in ipairs(items) do
  local id = id_of(item)
  if id and wanted[id] then
    if mode == 'has' then return 1 end
    newest[id] = newest[id] or item
    redis.call('LSET', KEYS[1], i - 1, REMOVED)
    removed = removed + 1
  end
end
if mode == 'has' then return 0 end
if removed > 0 then redis.call('LREM', KEYS[1], 0, REMOVED) end
if mode == 'drop' then return removed end

-- the letter's message as a new task, as follow_up() stores one
local function restore(letter)
  local ok, d = pcall(cjson.decode, letter)
  if not (ok and type(d) == 'table' and type(d.id) == 'string' and type(d.name) == 'string'
    and type(d.queue) == 'string' and type(d.payload) == 'string') then
    return
  end
  local j = '"name":' .. json_string(d.name) .. ',"queue":' .. json_string(d.queue)
  local fields = {'j', j, 'e', now, 'p', d.payload, 'm', pack_m('PENDING', 1, 0, 0, now, '', '', '', '')}
  if type(d.trace) == 'string' then
    fields[#fields + 1] = 'c'
    fields[#fields + 1] = d.trace
  end
  redis.call('HSET', BASE .. 't:' .. d.id, unpack(fields))
  push_ready(BASE .. 'q:' .. d.queue, BASE .. 'w:' .. d.queue, {d.id})
end
local requeued = {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local letter = newest[id]
  if letter then
    newest[id] = nil
    if not rerun(id, now, ttl) and redis.call('EXISTS', BASE .. 't:' .. id) == 0 then restore(letter) end
    requeued[#requeued + 1] = id
  end
end
return requeued
`,
);
