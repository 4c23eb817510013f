-- Append a local-channel reply part once per idempotency key, and wake long-polls (with the stream key, not text).
-- KEYS: the conversation's stream, the part's idempotency mark.
-- ARGV: stream cap, text, "index/total", idempotency key, pub/sub channel. Returns the part's stream id.
local prev = redis.call('GET', KEYS[2])
if prev then return prev end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'text', ARGV[2], 'part', ARGV[3], 'key', ARGV[4])
redis.call('SET', KEYS[2], id, 'EX', 604800)
redis.call('PUBLISH', ARGV[5], KEYS[1])
return id
