package redisstore

import (
	"context"
	"crypto/sha1"
	_ "embed" // the scripts
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed bucket.lua
	bucketLua string
	//go:embed take.lua
	takeLua string
	//go:embed refund.lua
	refundLua string
)

// script is one of the store's Lua scripts: the shared bucket arithmetic
// followed by its own part, with its SHA-1 for EVALSHA.
type script struct {
	sha, src any // boxed once, as command arguments
}

func newScript(body string) script {
	src := bucketLua + "\n" + body
	h := sha1.Sum([]byte(src))
	return script{sha: hex.EncodeToString(h[:]), src: src}
}

var (
	takeScript   = newScript(takeLua)
	refundScript = newScript(refundLua)
)

// Command names, boxed once.
var (
	evalshaArg any = "evalsha"
	evalArg    any = "eval"
)

// run sends sc over c's buckets within the store's time budget and
// returns its reply.
func (s *Store) run(ctx context.Context, c *call, sc *script) ([]int64, error) {
	c.op = "evalsha"
	if err := ctx.Err(); err != nil {
		return nil, s.failure(c.op, ctx, false, err)
	}
	budget, cancel, own := s.budget(ctx)
	defer cancel()
	v, err := c.send(budget, s.client, sc)
	if err != nil {
		return nil, s.failure(c.op, ctx, own, err)
	}
	return v, nil
}

// budget bounds ctx by the store's Timeout, unless ctx ends sooner; own
// reports whether the bound is the store's.
func (s *Store) budget(ctx context.Context) (_ context.Context, _ context.CancelFunc, own bool) {
	if s.timeout <= 0 {
		return ctx, func() {}, false
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.timeout {
		return ctx, func() {}, false
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	return ctx, cancel, true
}

// send runs sc as EVALSHA and, when Redis's script cache lacks it (a
// flushed cache, a new server or Cluster node), as EVAL, which runs the
// script and loads it for the EVALSHAs that follow. c.op is the command
// sent last.
func (c *call) send(ctx context.Context, client redis.UniversalClient, sc *script) ([]int64, error) {
	args := c.args[:3+3*c.n]
	args[0], args[1], args[2] = evalshaArg, sc.sha, c.n
	cmd := redis.NewIntSliceCmd(ctx, args...)
	cmd.SetFirstKeyPos(3)
	err := client.Process(ctx, cmd)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		c.op = "eval"
		args[0], args[1] = evalArg, sc.src
		cmd = redis.NewIntSliceCmd(ctx, args...)
		cmd.SetFirstKeyPos(3)
		err = client.Process(ctx, cmd)
	}
	return cmd.Val(), err
}
