-- Token bucket, one atomic read-refill-take on Redis' own clock (so replicas with skewed clocks agree).
-- KEYS[1]: bucket hash. KEYS[2], optional: sorted set of message ids already charged.
-- ARGV: tokens per ms, burst, then (with KEYS[2]) the message ids to charge.
-- Without KEYS[2] a call costs one token; with it, one per id not charged before (none: free).
-- Returns 0 when the tokens were taken, else the milliseconds until there would be enough (nothing is taken).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perMs = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local charging = #KEYS > 1
local fresh = {}
local cost = 1
if charging then
  for i = 3, #ARGV do
    if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then fresh[#fresh + 1] = ARGV[i] end
  end
  if #fresh == 0 then return 0 end
  cost = #fresh
end
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * perMs)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  if charging then
    for _, id in ipairs(fresh) do redis.call('ZADD', KEYS[2], now, id) end
  end
else
  wait = math.max(1, math.ceil((cost - tokens) / perMs))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / perMs) + 1000)
if charging then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 3600000)
  redis.call('PEXPIRE', KEYS[2], 3600000)
end
return wait
