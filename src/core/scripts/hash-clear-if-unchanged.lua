-- Delete a hash field only if it still holds the value read earlier (compare-and-delete).
-- KEYS: hash. ARGV: field, expected value. Returns 1 when deleted.
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
