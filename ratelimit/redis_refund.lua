-- One refund of RedisStore: gives back one token to every bucket, as if
-- the Take that took it had never happened, on Redis's clock.
--
-- KEYS[i]              bucket i, stored as the string "tokens last_us"
-- ARGV[2i-1], ARGV[2i] its rate (tokens per second) and burst
--
-- Reply: {remaining_1, reset_ns_1, remaining_2, ...}. A missing bucket is
-- full: nothing is written for it. Arithmetic as in redis.lua.

local MAX = 4611686018427387904

local function ns(tokens, rate)
  local d = math.floor(tokens / rate * 1e9)
  if d > MAX then
    return MAX
  end
  return d
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local reply = {}
local done = {}
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tk = burst
  local v = redis.call('GET', KEYS[i])
  if v and not done[KEYS[i]] then
    done[KEYS[i]] = true
    local sp = string.find(v, ' ', 1, true)
    local stored = sp and tonumber(string.sub(v, 1, sp - 1))
    local last = sp and tonumber(string.sub(v, sp + 1))
    if stored and last then
      if last > now then
        last = now
      end
      tk = stored + (now - last) / 1e6 * rate + 1
      if tk > burst then
        tk = burst
      end
      local ttl = math.ceil(ns(burst - tk, rate) / 1e6)
      if ttl < 1 then
        ttl = 1
      end
      redis.call('SET', KEYS[i], string.format('%.17g %.17g', tk, now), 'PX', string.format('%d', ttl))
    end
  elseif v then
    local sp = string.find(v, ' ', 1, true)
    tk = tonumber(string.sub(v, 1, sp - 1))
  end
  local remaining = 0
  if tk >= 1 then
    remaining = math.floor(tk)
  end
  reply[2 * i - 1] = remaining
  reply[2 * i] = ns(burst - tk, rate)
end
return reply
