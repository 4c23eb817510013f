-- Remove consumed inbox entries; when the inbox is empty, forget it (atomically, so an append cannot slip between).
-- The turn's kept model output (its batch is committed) goes in the same round trip.
-- KEYS: inbox stream, set of non-empty inboxes, kept model output (optional). ARGV: conversation key, stream ids...
-- Returns how many entries remain.
if KEYS[3] then redis.call('DEL', KEYS[3]) end
if #ARGV > 1 then redis.call('XDEL', KEYS[1], unpack(ARGV, 2)) end
local left = redis.call('XLEN', KEYS[1])
if left == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
end
return left
