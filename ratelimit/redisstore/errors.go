package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faultline-go/faultline/ratelimit"
)

// Errors of this package. The store's own failures come as a *StoreError,
// which matches ErrUnavailable or ErrTimeout with errors.Is when it is one
// of those; misuse (too many checks, an invalid policy, a closed store)
// returns the sentinels of package ratelimit.
var (
	// ErrNilClient is returned by New for a nil client.
	ErrNilClient = errors.New("redisstore: nil client")
	// ErrInvalidConfig is returned by New for a Config field out of its
	// documented range.
	ErrInvalidConfig = errors.New("redisstore: invalid config")
	// ErrNoContextTimeout is returned by New for a go-redis client created
	// without ContextTimeoutEnabled while Config.Timeout is not negative:
	// such a client keeps waiting on a stalled server after the context
	// expires, so Timeout could not bound a decision. Options and
	// ClusterOptions set it.
	ErrNoContextTimeout = errors.New("redisstore: the client ignores context deadlines; create it with ContextTimeoutEnabled: true")
	// ErrCrossSlot is returned by Take and Refund when the limited checks
	// of one decision do not all have the same Key: their buckets could
	// live on different Redis Cluster nodes, which one atomic script
	// cannot reach. The Limiter never builds such a decision.
	ErrCrossSlot = errors.New("redisstore: the checks of one decision must share one key")
	// ErrUnavailable matches a *StoreError whose server could not be
	// reached or dropped the connection (refused, reset, closed client,
	// a server still loading or a cluster that is down): a failure known
	// at once, with no time budget spent. It wraps
	// ratelimit.ErrStoreUnavailable, on which the Limiter's breaker opens
	// at once.
	ErrUnavailable = fmt.Errorf("redisstore: server unavailable: %w", ratelimit.ErrStoreUnavailable)
	// ErrTimeout matches a *StoreError whose server did not reply within
	// the store's time budget (Config.Timeout).
	ErrTimeout = errors.New("redisstore: no reply within the time budget")
	// ErrBadReply matches a *StoreError whose reply is not the script's:
	// not one integer per bucket, as a proxy or a hook answering in the
	// server's place might send. (A bucket that another program wrote
	// is no error: the scripts read it as a full bucket.)
	ErrBadReply = errors.New("redisstore: unexpected reply")
)

// StoreError is a decision that Redis could not make: which server, which
// command, and why. Its message reads
//
//	redisstore: 127.0.0.1:6390: evalsha: dial tcp 127.0.0.1:6390: connect: connection refused
//	redisstore: 127.0.0.1:6390: evalsha: no reply within 50ms
//
// errors.Is matches it against ErrUnavailable or ErrTimeout when it is one
// of those, and against its cause (syscall.ECONNREFUSED, ...).
type StoreError struct {
	// Addr is the server's address; the seed addresses, comma-separated,
	// for a Cluster or Ring client.
	Addr string
	// Op is the command that failed: "evalsha" or "eval".
	Op string
	// Err is the cause, as go-redis or the context returned it.
	Err error

	kind   error         // ErrUnavailable, ErrTimeout, ErrBadReply or nil
	budget time.Duration // the time budget, for ErrTimeout
}

// Error reports the address, the command and the cause.
func (e *StoreError) Error() string {
	return "redisstore: " + e.Addr + ": " + e.Op + ": " + e.detail()
}

func (e *StoreError) detail() string {
	if e.kind == ErrTimeout {
		if e.budget > 0 {
			return "no reply within " + e.budget.String()
		}
		return "no reply in time: " + e.Err.Error()
	}
	return e.Err.Error()
}

// Unwrap returns the cause and the class (ErrUnavailable, ErrTimeout,
// ErrBadReply) when there is one.
func (e *StoreError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.Err}
	}
	return []error{e.kind, e.Err}
}

// Unavailable reports whether the server could not be reached or dropped
// the connection: a breaker may open at once rather than after several
// timeouts.
func (e *StoreError) Unavailable() bool { return e.kind == ErrUnavailable }

// Timeout reports whether the server did not reply within the time
// budget.
func (e *StoreError) Timeout() bool { return e.kind == ErrTimeout }

// failure wraps err, returned by op on s, as a *StoreError. parent is the
// caller's context, and own says whether the store's Timeout bounded the
// call: a timeout then is the store's, while a timeout under the
// caller's own deadline, or a canceled parent, is the caller's and keeps
// the context's error. (The socket's deadline is the context's, so a
// read times out a moment before the context reports it.)
func (s *Store) failure(op string, parent context.Context, own bool, err error) *StoreError {
	e := &StoreError{Addr: s.addr, Op: op, Err: err}
	_, callerDeadline := parent.Deadline()
	switch {
	case parent.Err() != nil:
		e.Err = parent.Err()
	case isTimeout(err) && !own && callerDeadline:
		e.Err = context.DeadlineExceeded
	case isTimeout(err):
		e.kind, e.budget = ErrTimeout, s.timeout
	case isUnavailable(err):
		e.kind = ErrUnavailable
	}
	return e
}

// badReply is the *StoreError of a reply that is not n integers.
func (s *Store) badReply(op string, got, want int) *StoreError {
	return &StoreError{Addr: s.addr, Op: op, kind: ErrBadReply,
		Err: errors.New("script replied " + strconv.Itoa(got) + " integers, want " + strconv.Itoa(want))}
}

// isTimeout reports whether err is a deadline or a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// isUnavailable reports whether err says that no server answers: a failed
// dial, a dropped connection, a closed client, or a server that refuses
// every command for now.
func isUnavailable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	for _, target := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, io.EOF, io.ErrUnexpectedEOF, redis.ErrClosed} {
		if errors.Is(err, target) {
			return true
		}
	}
	for _, prefix := range []string{"LOADING", "CLUSTERDOWN", "MASTERDOWN", "TRYAGAIN"} {
		if redis.HasErrorPrefix(err, prefix) {
			return true
		}
	}
	return false
}
