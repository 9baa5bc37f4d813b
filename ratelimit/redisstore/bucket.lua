-- The bucket arithmetic shared by take.lua and refund.lua, which the store
-- appends to this file: MemoryStore's (x/time/rate's reserveN with n = 1)
-- on Redis's clock, in doubles.
--
-- KEYS[i]              bucket i, stored as the string "tokens last_us";
--                      the store sends each bucket once
-- ARGV[2i-1], ARGV[2i] its rate (tokens per second) and burst
--
-- Every policy that ratelimit.Policy.Validate accepts stays exact here:
-- burst <= 2^30 and rate <= 1e9 keep tokens far inside a double's 2^53,
-- the clock in microseconds (about 2^51 today) is exact too, and
-- burst / rate <= 2^62 ns bounds every duration, which the reply carries
-- as an integer (Redis truncates a number to a 64-bit integer).

local MAX = 4611686018427387904 -- 2^62 ns: no valid policy exceeds it

-- ns is x/time/rate's durationFromTokens: the whole nanoseconds it takes
-- to accumulate tokens at rate, in the same order of operations.
local function ns(tokens, rate)
  local d = math.floor(tokens / rate * 1e9)
  if d > MAX then
    return MAX
  end
  return d
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

-- load returns the tokens bucket i holds now, and whether it exists: a
-- missing (expired) bucket is full, and so is one that no decision of
-- this store wrote: not "tokens last_us", or numbers no decision leaves
-- (tonumber reads "nan", "inf" and hex too). A decision leaves tokens
-- from -1 (a token due within the nanosecond, taken) to burst. A clock
-- behind the bucket's last decision counts as that decision's time: time
-- never runs backwards.
local function load(i)
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local v = redis.call('GET', KEYS[i])
  if not v then
    return burst, rate, burst, false
  end
  local sp = string.find(v, ' ', 1, true)
  local stored = sp and tonumber(string.sub(v, 1, sp - 1))
  local last = sp and tonumber(string.sub(v, sp + 1))
  if not (stored and last and stored >= -1 and stored <= burst and last >= 0 and last <= MAX) then
    return burst, rate, burst, true -- rewritten by the decision
  end
  if last > now then
    last = now
  end
  local tk = stored + (now - last) / 1e6 * rate
  if tk > burst then
    tk = burst
  end
  return tk, rate, burst, true
end

-- save writes bucket i holding tk now, to live one millisecond past the
-- time it is full again (reset ns from now): a missing key is a full
-- bucket, so its expiry changes no decision.
local function save(i, tk, reset)
  local ttl = math.floor(reset / 1e6) + 1
  redis.call('SET', KEYS[i], string.format('%.17g %.17g', tk, now), 'PX', string.format('%d', ttl))
end

-- whole is the whole tokens of tk: remaining is never negative.
local function whole(tk)
  if tk < 1 then
    return 0
  end
  return math.floor(tk)
end
