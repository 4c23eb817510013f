-- Keep a message under each of KEYS for a while, then publish it: a client that missed the publish (it retried)
-- still finds it. One round trip, where a MULTI/EXEC took N + 3 commands.
-- KEYS: where to keep it. ARGV: channel, message, ttl in seconds.
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[2], 'EX', tonumber(ARGV[3]))
end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
