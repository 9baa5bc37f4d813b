package problem

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/jsonw"
	"github.com/faultline-go/faultline/internal/reqctx"
)

// Header names the renderer reads or writes.
const (
	HeaderRequestID  = "X-Request-Id"
	HeaderRetryAfter = "Retry-After"
)

// Renderer turns any error into a status, headers and a body in the
// configured envelope, and logs what it must. It is safe for concurrent use.
type Renderer struct {
	env         Envelope
	catalog     *catalog.Catalog
	logger      *slog.Logger
	clientLevel slog.Leveler
	serverLevel slog.Leveler
	now         func() time.Time
	contentType []string // shared header value; never modified
	std         standards
	limit       *logLimiter   // nil: every client error is logged
	observer    ErrorObserver // nil: none
}

// headerNoSniff is the shared X-Content-Type-Options value.
var headerNoSniff = []string{"nosniff"}

// NewRenderer validates cfg and returns a Renderer. An unknown envelope name
// fails with an error listing the valid ones.
func NewRenderer(cfg Config) (*Renderer, error) {
	var env Envelope
	seen := map[string]bool{}
	for _, e := range append(builtinEnvelopes(), cfg.Extra...) {
		if e == nil {
			return nil, fmt.Errorf("%w: nil envelope in Extra", ErrInvalidConfig)
		}
		if e.Name() == "" {
			return nil, fmt.Errorf("%w: envelope with an empty name in Extra", ErrInvalidConfig)
		}
		if seen[e.Name()] {
			return nil, fmt.Errorf("%w: two envelopes named %q", ErrInvalidConfig, e.Name())
		}
		seen[e.Name()] = true
		if e.Name() == cfg.Envelope || cfg.Envelope == "" && e.Name() == EnvelopeProblem {
			env = e
		}
	}
	if env == nil {
		return nil, fmt.Errorf("%w %q; valid: %s", ErrUnknownEnvelope, cfg.Envelope, strings.Join(envelopeNames(cfg.Extra), ", "))
	}
	cat := cfg.Catalog
	switch {
	case cat == nil:
		var err error
		if cat, err = catalog.New(cfg.Prefix); err != nil {
			return nil, err
		}
	case cfg.Prefix != "" && cfg.Prefix != cat.Prefix():
		return nil, fmt.Errorf("%w: Prefix %q differs from the catalog's prefix %q", ErrInvalidConfig, cfg.Prefix, cat.Prefix())
	}
	for _, name := range []string{catalog.Internal, catalog.DeadlineExceeded, catalog.PayloadTooLarge} {
		if cat.Ref(name) == nil {
			return nil, fmt.Errorf("%w: the catalog lacks the built-in code %s", ErrInvalidConfig, name)
		}
	}
	if cfg.TypeBaseURI != "" {
		if err := checkTypeBase(cfg.TypeBaseURI); err != nil {
			return nil, err
		}
	}
	std, err := newStandards(cfg, env, cat)
	if err != nil {
		return nil, err
	}
	rd := &Renderer{
		std:         std,
		env:         env,
		catalog:     cat,
		logger:      cfg.Logger,
		clientLevel: cfg.ClientErrorLevel,
		serverLevel: cfg.ServerErrorLevel,
		now:         cfg.Now,
		contentType: []string{env.ContentType()},
		limit:       newLogLimiter(cfg.ClientLogLimit),
		observer:    cfg.Observer,
	}
	if rd.logger == nil {
		rd.logger = slog.Default()
	}
	if rd.clientLevel == nil {
		rd.clientLevel = slog.LevelInfo
	}
	if rd.serverLevel == nil {
		rd.serverLevel = slog.LevelWarn
	}
	if rd.now == nil {
		rd.now = time.Now
	}
	return rd, nil
}

// MustRenderer is NewRenderer that panics on error.
func MustRenderer(cfg Config) *Renderer {
	rd, err := NewRenderer(cfg)
	if err != nil {
		panic(err)
	}
	return rd
}

// Envelope returns the envelope in use.
func (rd *Renderer) Envelope() Envelope { return rd.env }

// Catalog returns the catalog codes are resolved against.
func (rd *Renderer) Catalog() *catalog.Catalog { return rd.catalog }

// Logger returns the logger error records go to.
func (rd *Renderer) Logger() *slog.Logger { return rd.logger }

// genericMessage is what a client sees of any internal error.
const genericMessage = "An internal error has occurred."

// outcome is how an error is answered.
type outcome int

const (
	answer   outcome = iota // render the problem
	sanitize                // render a sanitized internal error
	gone                    // the client went away: log quietly, write nothing
)

// classify maps err to its problem and outcome.
func (rd *Renderer) classify(r *http.Request, err error) (*Error, *catalog.Code, outcome) {
	if pe, ok := asType[*Error](err); ok {
		code := rd.ref(pe.Code)
		if code == nil {
			return nil, rd.catalog.Ref(catalog.Internal), sanitize
		}
		if code.Name == catalog.Internal {
			return pe, code, sanitize
		}
		return pe, code, answer
	}
	switch {
	case clientGone(r, err):
		return nil, nil, gone
	case errors.Is(err, context.DeadlineExceeded):
		return nil, rd.catalog.Ref(catalog.DeadlineExceeded), answer
	}
	if _, ok := asType[*http.MaxBytesError](err); ok {
		return nil, rd.catalog.Ref(catalog.PayloadTooLarge), answer
	}
	if pe := bodyFault(r, err); pe != nil {
		return pe, rd.ref(pe.Code), answer
	}
	return nil, rd.catalog.Ref(catalog.Internal), sanitize
}

// asType is errors.As with the target type as a type parameter. errors.As
// moves its target to the heap, an allocation on every error response; this
// walks the chain with type assertions instead, and defers to errors.As only
// when a link has an As method of its own.
func asType[T error](err error) (T, bool) {
	for err != nil {
		if t, ok := err.(T); ok {
			return t, true
		}
		if _, ok := err.(interface{ As(any) bool }); ok {
			var t T
			ok = errors.As(err, &t)
			return t, ok
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if t, ok := asType[T](e); ok {
					return t, true
				}
			}
			err = nil
		default:
			err = nil
		}
	}
	var zero T
	return zero, false
}

// clientGone reports whether err only says that the client went away: the
// request was canceled by the client, or a write hit a closed connection.
func clientGone(r *http.Request, err error) bool {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return true
	}
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrHandlerTimeout)
}

// committer is implemented by response writers that know whether the
// response has gone out.
type committer interface{ Committed() bool }

// contentHeaders describe a body the handler meant to send; they are wrong
// for the error body that replaces it.
var contentHeaders = [...]string{"Content-Length", "Content-Encoding", "Content-Range",
	"Content-Disposition", "Content-Language", "Etag", "Last-Modified", "Transfer-Encoding"}

// Write answers the request with err in the configured envelope; a nil err
// writes nothing. A *Error is answered as it says; any other error becomes a
// sanitized 500, except context.DeadlineExceeded (504 DEADLINE_EXCEEDED),
// *http.MaxBytesError (413), a request body the client broke (400, or 408
// REQUEST_TIMEOUT for a read timeout; see Decoder.Decode) and a client that
// went away (logged at DEBUG, nothing written). If the response was already
// committed, Write only logs.
// HEAD requests get the headers without a body.
func (rd *Renderer) Write(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	pe, code, out := rd.classify(r, err)
	st := reqctx.From(r.Context())
	if out == gone {
		rd.logger.LogAttrs(r.Context(), slog.LevelDebug, "client went away",
			slog.String("request_id", stateID(st)), slog.String("method", r.Method),
			slog.String("path", capText(r.URL.Path, MaxLogTextBytes)), slog.String("error", errorText(err)))
		return
	}
	committed := isCommitted(w, st)
	p := Problem{Code: code, Status: code.Status, Reason: code.Google, Message: code.Message}
	if committed {
		p.RequestID = stateID(st)
	} else {
		p.RequestID = ensureRequestID(w.Header(), st)
	}
	if out == sanitize {
		p.ExcID = newExcID()
		p.Message = genericMessage
	} else if pe != nil {
		if pe.Message != "" {
			p.Message = pe.Message
		}
		if pe.Reason != "" {
			p.Reason = pe.Reason
		}
		p.Violations = pe.Violations
		p.Metadata = pe.Metadata
		p.Policies, p.RetryAfter = pe.Policies, pe.RetryAfter
	}
	rd.log(r, err, &p, committed)
	if committed {
		return
	}

	h := w.Header()
	for _, k := range contentHeaders {
		delete(h, k)
	}
	env, ctype := rd.std.pick(rd.env, rd.contentType, r)
	h["Content-Type"] = ctype
	h["X-Content-Type-Options"] = headerNoSniff
	if pe != nil && out == answer {
		for k, v := range pe.Header {
			h[k] = v[:len(v):len(v)] // an append to the response header copies
		}
		if pe.RetryAfter > 0 {
			h[HeaderRetryAfter] = retryAfterHeader(pe.RetryAfter)
		}
	}
	rd.std.addLink(h, code)
	rd.std.addVary(h)
	w.WriteHeader(p.Status)
	if r.Method == http.MethodHead {
		return
	}
	p.Time = rd.now()
	rd.describe(&p, r, env)
	buf := jsonw.Get()
	*buf = appendBody(env, *buf, &p)
	_, _ = w.Write(*buf)
	jsonw.Put(buf)
}

// Render is Write into memory: it returns the status, headers and body the
// request would be answered with.
func (rd *Renderer) Render(r *http.Request, err error) (status int, header http.Header, body []byte) {
	rec := &recorder{header: http.Header{}}
	rd.Write(rec, r, err)
	return rec.status, rec.header, rec.body
}

type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (rec *recorder) Header() http.Header { return rec.header }
func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
}
func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	rec.body = append(rec.body, b...)
	return len(b), nil
}

func isCommitted(w http.ResponseWriter, st *reqctx.State) bool {
	if c, ok := w.(committer); ok {
		return c.Committed()
	}
	return st != nil && st.WInUse && st.W.Committed()
}

func stateID(st *reqctx.State) string {
	if st == nil {
		return ""
	}
	return st.ID
}

// ensureRequestID returns the request's id, making one (and setting the
// response header) when no RequestID middleware did.
func ensureRequestID(h http.Header, st *reqctx.State) string {
	if st != nil && st.ID != "" {
		return st.ID
	}
	id := reqctx.NewRequestID()
	if st == nil {
		h.Set(HeaderRequestID, id)
		return id
	}
	st.ID = id
	st.IDHeader[0] = id
	h[HeaderRequestID] = st.IDHeader[:]
	return id
}

// RetryAfterSeconds formats d as a Retry-After value: whole seconds, rounded
// up, at least 1.
func RetryAfterSeconds(d time.Duration) string {
	s := int64(d / time.Second)
	if d%time.Second > 0 { // not d+time.Second-1, which overflows near the maximum
		s++
	}
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// kebab turns NOT_FOUND into not-found.
func kebab(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if c == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}

// excAlphabet is Crockford's base32 in lower case: URL-safe and free of
// look-alike letters.
const excAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// newExcID returns "exc_" and 26 characters encoding 128 random bits.
func newExcID() string {
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // unlike io.ReadFull(rand.Reader, ...), keeps raw off the heap
	var out [4 + 26]byte
	copy(out[:], "exc_")
	// 128 bits as 26 base32 digits, 5 bits each, most significant first.
	hi := uint64(raw[0])<<56 | uint64(raw[1])<<48 | uint64(raw[2])<<40 | uint64(raw[3])<<32 |
		uint64(raw[4])<<24 | uint64(raw[5])<<16 | uint64(raw[6])<<8 | uint64(raw[7])
	lo := uint64(raw[8])<<56 | uint64(raw[9])<<48 | uint64(raw[10])<<40 | uint64(raw[11])<<32 |
		uint64(raw[12])<<24 | uint64(raw[13])<<16 | uint64(raw[14])<<8 | uint64(raw[15])
	for i := len(out) - 1; i >= 4; i-- {
		out[i] = excAlphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
