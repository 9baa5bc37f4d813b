package reqctx

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net/http"

	"github.com/google/uuid"

	"github.com/faultline-go/faultline/internal/respwriter"
)

// State is the per-request state. It is created by the first faultline
// middleware that sees the request and filled in by the others; it is only
// touched by the goroutine serving the request.
type State struct {
	// ID is the request id, empty until a RequestID middleware (or the
	// renderer, when none ran) sets it.
	ID string
	// Renderer is the *problem.Renderer in charge of the request, or nil.
	Renderer any
	// Principal is the authenticated caller, or nil.
	Principal any

	// IDHeader backs the X-Request-Id response header value, so setting
	// the header costs no allocation of its own.
	IDHeader [1]string

	// W is the response writer wrapper of the Recover middleware; WInUse
	// says whether it already wraps a writer for this request.
	W      respwriter.Writer
	WInUse bool
}

type contextKey struct{ name string }

var stateKey = &contextKey{"faultline.state"}

// From returns the state carried by ctx, or nil.
func From(ctx context.Context) *State {
	s, _ := ctx.Value(stateKey).(*State)
	return s
}

// stateCtx is the context carrying a State. It does what
// context.WithValue(parent, stateKey, &st) does, in the one allocation that
// holds the state.
type stateCtx struct {
	context.Context
	st State
}

// Value returns the state for stateKey and asks the parent otherwise.
func (c *stateCtx) Value(key any) any {
	if key == stateKey {
		return &c.st
	}
	return c.Context.Value(key)
}

// String names the context, as the context package's own types do.
func (c *stateCtx) String() string { return "reqctx.WithState" }

// Ensure returns the state of r, attaching a new one (and returning the
// request that carries it) when r has none.
func Ensure(r *http.Request) (*State, *http.Request) {
	if s := From(r.Context()); s != nil {
		return s, r
	}
	c := &stateCtx{Context: r.Context()}
	return &c.st, r.WithContext(c)
}

// EnsureContext is Ensure for a bare context.
func EnsureContext(ctx context.Context) (*State, context.Context) {
	if s := From(ctx); s != nil {
		return s, ctx
	}
	c := &stateCtx{Context: ctx}
	return &c.st, c
}

// Detach returns ctx carrying a copy of its state (a new state when it has
// none), for a goroutine that serves the request beside the one owning the
// state, as Timeout's handler goroutine does. The copy starts with the same
// id, renderer, principal and rate-limit state and no response writer; what
// the goroutine records in it (an id made for an error response, the writer
// of a Recover) stays its own, so the two goroutines share nothing mutable.
func Detach(ctx context.Context) context.Context {
	c := &stateCtx{Context: ctx}
	if s := From(ctx); s != nil {
		c.st = *s
		c.st.W = respwriter.Writer{}
		c.st.WInUse = false
	}
	return c
}

// WithRenderer returns a context derived from ctx whose state is a copy of
// ctx's (a new state when it has none) with Renderer set to rd. ctx and its
// state are left as they were, so a context handed out earlier keeps its
// renderer. As in Detach, the copy starts without a response writer: the
// writer stays with the state of the middleware that wraps it.
func WithRenderer(ctx context.Context, rd any) context.Context {
	c := &stateCtx{Context: ctx}
	if s := From(ctx); s != nil {
		c.st = *s
		c.st.W = respwriter.Writer{}
		c.st.WInUse = false
	}
	c.st.Renderer = rd
	return c
}

// NewRequestID returns a random (version 4) UUID string. The random bits come
// from the runtime's ChaCha8 generator, seeded from the operating system:
// request ids must be unique, not secret, and this keeps id generation off
// the system call path.
func NewRequestID() string {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rand.Uint64())
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u.String()
}

// ValidRequestID reports whether an incoming request id may be reused: 1 to
// 128 characters of [A-Za-z0-9._:-].
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
