-- Set one field of a hash and (re)start the hash's time to live: HSET + EXPIRE in one round trip, where a
-- MULTI/EXEC took four commands. KEYS: the hash. ARGV: field, value, ttl in seconds.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
