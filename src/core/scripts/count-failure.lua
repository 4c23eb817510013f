-- Count permanent failures for one inbox head; a different head starts a new count.
-- KEYS: the conversation's failure hash. ARGV: inbox head stream id, reason. Returns the count.
if redis.call('HGET', KEYS[1], 'head') ~= ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'head', ARGV[1])
end
local n = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'reason', ARGV[2])
redis.call('EXPIRE', KEYS[1], 86400)
return n
