-- Give a lease back only for its holder. KEYS: lease. ARGV: holder token. Returns 1 when released.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
