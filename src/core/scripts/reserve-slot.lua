-- Reserve the next free slot of a paced resource (a channel's sends, a platform's announcement fan-out).
-- KEYS: the next free slot (ms). ARGV: now (ms), interval (ms). Returns how long to wait for the slot (ms).
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nextFree)
-- Kept until the reserved slot is over, however far ahead a backlog pushed it (else later sends would burst),
-- plus a minute, so a resource used again soon after still sees its last slot.
redis.call('SET', KEYS[1], slot + interval, 'PX', slot - now + interval * 2 + 60000)
return slot - now
