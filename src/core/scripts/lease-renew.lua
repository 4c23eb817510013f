-- Extend a lease only for its holder. KEYS: lease. ARGV: holder token, TTL (ms). Returns 1 when renewed.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end
