-- One refund (after bucket.lua): every bucket gets back one token, as if
-- the decision that took it had never happened, never past its burst. A
-- missing bucket is full: nothing is written for it.
--
-- Reply: {remaining_1, reset_ns_1, remaining_2, ...}.

local reply = {}
for i = 1, #KEYS do
  local tk, rate, burst, found = load(i)
  if found then
    tk = tk + 1
    if tk > burst then
      tk = burst
    end
  end
  local reset = ns(burst - tk, rate)
  if found then
    save(i, tk, reset)
  end
  reply[2 * i - 1] = whole(tk)
  reply[2 * i] = reset
end
return reply
