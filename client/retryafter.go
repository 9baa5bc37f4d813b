package client

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// maxDuration is the longest time.Duration; parsers saturate at it.
const maxDuration = time.Duration(math.MaxInt64)

// ParseRetryAfter reads a Retry-After value (RFC 9110 §10.2.3): a number
// of seconds, or an HTTP-date, which is taken relative to now. The result
// is floored at zero (a date in the past, or a negative number, means
// "now") and saturates instead of overflowing; callers cap it. Anything
// else fails with ErrMalformedHeader.
func ParseRetryAfter(v string, now time.Time) (time.Duration, error) {
	v = strings.Trim(v, " \t")
	if v == "" {
		return 0, fmt.Errorf("%w: empty Retry-After", ErrMalformedHeader)
	}
	if d, ok := parseSeconds(v); ok {
		return d, nil
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, fmt.Errorf("%w: Retry-After %.40q is neither seconds nor an HTTP-date", ErrMalformedHeader, v)
	}
	if d := t.Sub(now); d > 0 {
		return d, nil
	}
	return 0, nil
}

// parseSeconds reads an optional minus sign and decimal digits as whole
// seconds, saturating; a negative value is zero.
func parseSeconds(v string) (time.Duration, bool) {
	neg := v[0] == '-'
	if neg {
		v = v[1:]
	}
	if v == "" {
		return 0, false
	}
	var d time.Duration
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if d > (maxDuration-time.Duration(c-'0')*time.Second)/10 {
			d = maxDuration
			continue
		}
		d = d*10 + time.Duration(c-'0')*time.Second
	}
	if neg {
		return 0, true
	}
	return d, true
}

// parseProtoDuration reads the JSON form of a google.protobuf.Duration
// ("3s", "1.5s", "-1s", up to nine fractional digits), floored at zero and
// saturating.
func parseProtoDuration(v string) (time.Duration, bool) {
	num, ok := strings.CutSuffix(v, "s")
	if !ok || num == "" {
		return 0, false
	}
	neg := num[0] == '-'
	if neg {
		num = num[1:]
	}
	whole, frac, _ := strings.Cut(num, ".")
	if len(frac) > 9 || whole == "" && frac == "" {
		return 0, false
	}
	d, ok := parseSeconds(orZero(whole))
	if !ok || strings.HasPrefix(whole, "-") {
		return 0, false
	}
	var ns time.Duration
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			ns += time.Duration(c - '0')
		}
	}
	if neg {
		return 0, true
	}
	if d > maxDuration-ns {
		return maxDuration, true
	}
	return d + ns, true
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}
