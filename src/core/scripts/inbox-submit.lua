-- Append an inbound event unless its id was seen, and say whether a turn job must be added.
-- KEYS: seen mark, inbox stream, set of non-empty inboxes, "turn queued" flag.
-- ARGV: dedupe TTL (s), event JSON, conversation key.
-- Returns {fresh, needTurn}. needTurn is 0 only when a queued turn that has not started reading will see this entry.
local fresh = 0
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], '*', 'e', ARGV[2])
  redis.call('SADD', KEYS[3], ARGV[3])
  fresh = 1
end
local needTurn = 1
if redis.call('SET', KEYS[4], '1', 'NX', 'EX', 60) == false then needTurn = 0 end
return {fresh, needTurn}
