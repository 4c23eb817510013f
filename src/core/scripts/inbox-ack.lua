-- Remove consumed inbox entries; when the inbox is empty, forget it (atomically, so an append cannot slip between).
-- KEYS: inbox stream, set of non-empty inboxes. ARGV: conversation key, stream ids...
-- Returns how many entries remain.
if #ARGV > 1 then redis.call('XDEL', KEYS[1], unpack(ARGV, 2)) end
local left = redis.call('XLEN', KEYS[1])
if left == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[1])
end
return left
