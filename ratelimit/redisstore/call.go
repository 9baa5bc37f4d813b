package redisstore

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/faultline-go/faultline/ratelimit"
)

// call is the scratch space of one decision: its distinct limited buckets
// and the script command that decides them. Calls are pooled, so that a
// decision on existing keys allocates only what go-redis does and one
// string.
type call struct {
	n     int                      // distinct limited buckets sent
	first [ratelimit.MaxChecks]int // per bucket: the first check naming it
	of    [ratelimit.MaxChecks]int // per check: its bucket, or -1 for rate.Inf
	nck   int                      // checks of the decision
	op    string                   // the command sent last: "evalsha" or "eval"

	// args is the command: evalsha, sha1, numkeys, then the n keys and the
	// rate and burst of each; args[3:] point into strs, substrings of one
	// string built per decision from buf.
	args [3 + 3*ratelimit.MaxChecks]any
	strs [3 * ratelimit.MaxChecks]string
	ends [3 * ratelimit.MaxChecks]int
	buf  []byte
}

var calls = sync.Pool{New: func() any {
	c := &call{buf: make([]byte, 0, 512)}
	for i := range c.strs {
		c.args[3+i] = &c.strs[i]
	}
	return c
}}

func newCall() *call { return calls.Get().(*call) }

// release returns c to the pool, dropping the strings it points to.
func (c *call) release() {
	clear(c.strs[:3*c.n])
	c.n = 0
	calls.Put(c)
}

// plan finds the distinct limited buckets of checks, which must share one
// key, and fills the results of unlimited checks.
func (c *call) plan(checks []ratelimit.Check, res []ratelimit.Result) error {
	c.n, c.nck = 0, len(checks)
	for i := range checks {
		c.of[i] = -1
		p := &checks[i].Policy
		if p.Rate == rate.Inf {
			res[i] = ratelimit.Result{Allowed: true, Remaining: p.Burst}
			continue
		}
		if c.n > 0 && checks[i].Key != checks[c.first[0]].Key {
			c.n = 0
			return ErrCrossSlot
		}
		k := 0
		for k < c.n && checks[c.first[k]].Policy != *p {
			k++
		}
		if k == c.n { // a new bucket, not one named before
			c.first[k] = i
			c.n++
		}
		c.of[i] = k
	}
	return nil
}

// encode writes the keys, rates and bursts of c's buckets into one string
// and points the command's arguments at its parts.
func (c *call) encode(prefix string, checks []ratelimit.Check) {
	b := c.buf[:0]
	b = append(b, prefix...)
	b = append(b, ":{"...)
	b = appendTag(b, checks[c.first[0]].Key)
	b = append(b, "}:"...)
	head := len(b)
	for k := 0; k < c.n; k++ {
		if k > 0 {
			b = append(b, b[:head]...)
		}
		b = appendPolicy(b, &checks[c.first[k]].Policy)
		c.ends[k] = len(b)
	}
	for k := 0; k < c.n; k++ {
		p := &checks[c.first[k]].Policy
		b = strconv.AppendFloat(b, float64(p.Rate), 'g', -1, 64)
		c.ends[c.n+2*k] = len(b)
		b = strconv.AppendInt(b, int64(p.Burst), 10)
		c.ends[c.n+2*k+1] = len(b)
	}
	c.buf = b
	str := string(b)
	start := 0
	for j := 0; j < 3*c.n; j++ {
		c.strs[j] = str[start:c.ends[j]]
		start = c.ends[j]
	}
}

// appendPolicy appends the policy part of a bucket's key: name, rate and
// burst, so that two policies share a bucket only when they are equal.
func appendPolicy(b []byte, p *ratelimit.Policy) []byte {
	b = append(b, p.Name...)
	b = append(b, ':')
	b = strconv.AppendFloat(b, float64(p.Rate), 'g', -1, 64)
	b = append(b, ':')
	return strconv.AppendInt(b, int64(p.Burst), 10)
}

// takeResults fills res from the take script's reply v (without its
// first integer): remaining, reset and retry per bucket.
func (c *call) takeResults(v []int64, res []ratelimit.Result) {
	for k := 0; k < c.n; k++ {
		retry := v[3*k+2]
		res[c.first[k]] = ratelimit.Result{
			Allowed:    retry == 0,
			Remaining:  int(v[3*k]),
			Reset:      time.Duration(v[3*k+1]),
			RetryAfter: time.Duration(retry),
		}
	}
	c.copyDuplicates(res)
}

// refundResults fills res from the refund script's reply v: remaining and
// reset per bucket.
func (c *call) refundResults(v []int64, res []ratelimit.Result) {
	for k := 0; k < c.n; k++ {
		res[c.first[k]] = ratelimit.Result{Allowed: true, Remaining: int(v[2*k]), Reset: time.Duration(v[2*k+1])}
	}
	c.copyDuplicates(res)
}

// copyDuplicates gives the later checks naming a bucket its result.
func (c *call) copyDuplicates(res []ratelimit.Result) {
	for i := 0; i < c.nck; i++ {
		if k := c.of[i]; k >= 0 && c.first[k] != i {
			res[i] = res[c.first[k]]
		}
	}
}

// maxTagLen is the longest Key used as a hash tag as it is.
const maxTagLen = 128

// appendTag appends the hash tag of key: key itself when Redis Cluster
// would hash all of it and it cannot be mistaken for a hashed tag, else
// the hex SHA-256 of key.
func appendTag(b []byte, key string) []byte {
	if plainTag(key) {
		return append(b, key...)
	}
	sum := sha256.Sum256([]byte(key))
	return hex.AppendEncode(b, sum[:])
}

// plainTag reports whether key can be its own hash tag: 1 to maxTagLen
// bytes, no brace, and not the shape of a hashed tag.
func plainTag(key string) bool {
	if len(key) == 0 || len(key) > maxTagLen || isHex64(key) {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] == '{' || key[i] == '}' {
			return false
		}
	}
	return true
}

// isHex64 reports whether s has the shape of a hashed tag.
func isHex64(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
