-- A turn starts: clear the "turn queued" flag (appends from now on need a new turn job), read the batch, and the
-- output kept for the conversation's last unfinished batch, in one round trip.
-- KEYS: "turn queued" flag, inbox stream, kept model output (optional). ARGV: batch size.
-- Returns {entries, kept or false}.
redis.call('DEL', KEYS[1])
local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', ARGV[1])
local kept = false
if KEYS[3] then kept = redis.call('GET', KEYS[3]) end
return {entries, kept}
