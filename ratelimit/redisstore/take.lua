-- One decision, all or nothing (after bucket.lua): every bucket is read
-- and decided first, and written only when every one allows.
--
-- Reply: {allowed, remaining_1, reset_ns_1, retry_ns_1, remaining_2, ...},
-- allowed 1 or 0, retry_ns 0 for a bucket that allows.

local n = #KEYS
local tokens, rates, bursts, retries = {}, {}, {}, {}
local all = true
for i = 1, n do
  local tk, rate, burst = load(i)
  -- Allowed iff a token is there, or due within the nanosecond.
  local retry = 0
  if tk - 1 < 0 then
    retry = ns(1 - tk, rate)
  end
  if retry > 0 then
    all = false
  end
  tokens[i], rates[i], bursts[i], retries[i] = tk, rate, burst, retry
end

local reply = {all and 1 or 0}
for i = 1, n do
  local tk, rate, burst, retry = tokens[i], rates[i], bursts[i], retries[i]
  if all then
    tk = tk - 1
  end
  local reset = ns(burst - tk, rate)
  if all then
    save(i, tk, reset)
  end
  reply[3 * i - 1] = whole(tk)
  reply[3 * i] = reset
  reply[3 * i + 1] = retry
end
return reply
