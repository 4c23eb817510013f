-- Delete a key only if it still holds this value (a lease's holder token, a running turn's id).
-- KEYS: the key. ARGV: expected value. Returns 1 when deleted.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
