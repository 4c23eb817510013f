-- Count an attempt once per marker in a short window (the bot-loop guard counts a re-run turn once).
-- KEYS: the window's counter, the attempt's marker. Returns the window's count.
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', 120) then
  local n = redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], 120)
  return n
end
return tonumber(redis.call('GET', KEYS[1]) or '0')
