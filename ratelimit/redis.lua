-- One rate-limit decision of RedisStore, all or nothing, on Redis's clock.
--
-- KEYS[i]            bucket i, stored as the string "tokens last_us"
-- ARGV[2i-1], ARGV[2i] its rate (tokens per second) and burst
--
-- Reply: {allowed, remaining_1, reset_ns_1, retry_ns_1, remaining_2, ...},
-- allowed 1 or 0, retry_ns 0 for a check that allows. The arithmetic is
-- MemoryStore's decide (x/time/rate's reserveN with n = 1): buckets are
-- read and decided first, and written only when every check allows.

local MAX = 4611686018427387904 -- 2^62 ns, about 146 years; Go reads it as forever

-- ns is x/time/rate's durationFromTokens: the whole nanoseconds it takes
-- to accumulate tokens at rate.
local function ns(tokens, rate)
  local d = math.floor(tokens / rate * 1e9)
  if d > MAX then
    return MAX
  end
  return d
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local n = #KEYS
local rates, bursts, tokens = {}, {}, {}
local all = true
for i = 1, n do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tk = burst
  local v = redis.call('GET', KEYS[i])
  if v then
    local sp = string.find(v, ' ', 1, true)
    local stored = sp and tonumber(string.sub(v, 1, sp - 1))
    local last = sp and tonumber(string.sub(v, sp + 1))
    if stored and last then
      if last > now then
        last = now -- time never runs backwards
      end
      tk = stored + (now - last) / 1e6 * rate
      if tk > burst then
        tk = burst
      end
    end
  end
  -- Allowed iff a token is there, or due within the nanosecond.
  if tk - 1 < 0 and ns(1 - tk, rate) > 0 then
    all = false
  end
  rates[i], bursts[i], tokens[i] = rate, burst, tk
end

local reply = {all and 1 or 0}
for i = 1, n do
  local rate, burst, tk = rates[i], bursts[i], tokens[i]
  local allowed = tk - 1 >= 0 or ns(1 - tk, rate) <= 0
  if all then
    tk = tk - 1
  end
  local remaining = 0
  if tk >= 1 then
    remaining = math.floor(tk)
  end
  local reset = ns(burst - tk, rate)
  local retry = 0
  if not allowed then
    retry = ns(1 - tk, rate)
    if retry <= 0 then
      retry = 1
    end
  end
  reply[3 * i - 1] = remaining
  reply[3 * i] = reset
  reply[3 * i + 1] = retry
  if all then
    -- The key lives until its bucket is full again: a missing key is a
    -- full bucket, so expiry changes no decision.
    local ttl = math.ceil(reset / 1e6)
    if ttl < 1 then
      ttl = 1
    end
    redis.call('SET', KEYS[i], string.format('%.17g %.17g', tk, now), 'PX', string.format('%d', ttl))
  end
end
return reply
