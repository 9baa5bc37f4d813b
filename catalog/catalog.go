package catalog

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Code describes one error a service can return.
type Code struct {
	// Name is the canonical, unique name, e.g. NOT_FOUND. It is the
	// `status` of the google envelope and the `code` member of the problem
	// envelope. Upper case letters, digits and underscores.
	Name string
	// Status is the HTTP status, 400 to 599.
	Status int
	// Flat is the code of the flat envelope, PREFIX-STATUS-SEQUENCE
	// (BLUM-404-001). Left empty at registration, it gets the catalog's
	// prefix and the next free sequence number for Status.
	Flat string
	// Google is the `status` of the google envelope; empty means Name.
	Google string
	// Tracked is the `code` of the tracked envelope (INVALID_REQUEST,
	// NOT_FOUND, ...); empty means the default for Status, or Name when the
	// status has none.
	Tracked string
	// Title is a short summary used as the problem envelope's `title` when
	// a type base URI is configured; empty means the HTTP status text.
	Title string
	// Retryable says whether a client may retry the same request.
	Retryable bool
	// Message is the default client-facing message.
	Message string
	// Resolution tells the client what to do about the error.
	Resolution string
	// Metadata lists the metadata keys the code documents: the
	// machine-readable context a client may rely on (RESOURCE_EXHAUSTED
	// names its policy, INTERNAL its exc_ id). Once shipped, a key is never
	// removed; see Catalog.Compare. Each key is 1 to 64 ASCII letters,
	// digits, '_', '-' or '.', listed once.
	Metadata []string
}

// Names of the built-in codes.
const (
	InvalidArgument      = "INVALID_ARGUMENT"
	MissingField         = "MISSING_FIELD"
	InvalidFormat        = "INVALID_FORMAT"
	MissingAuthorization = "MISSING_AUTHORIZATION"
	MalformedCredentials = "MALFORMED_CREDENTIALS"
	InvalidCredentials   = "INVALID_CREDENTIALS"
	PermissionDenied     = "PERMISSION_DENIED"
	NotFound             = "NOT_FOUND"
	MethodNotAllowed     = "METHOD_NOT_ALLOWED"
	RequestTimeout       = "REQUEST_TIMEOUT"
	Conflict             = "CONFLICT"
	PayloadTooLarge      = "PAYLOAD_TOO_LARGE"
	UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	FailedPrecondition   = "FAILED_PRECONDITION"
	ResourceExhausted    = "RESOURCE_EXHAUSTED"
	Internal             = "INTERNAL"
	BadGateway           = "BAD_GATEWAY"
	Unavailable          = "UNAVAILABLE"
	DeadlineExceeded     = "DEADLINE_EXCEEDED"
)

// DefaultPrefix is the flat-code prefix used when none is configured.
const DefaultPrefix = "ERR"

// Errors returned by the catalog's functions. They are wrapped with the
// offending value, so test them with errors.Is.
var (
	ErrDuplicateName = errors.New("catalog: duplicate code name")
	ErrDuplicateFlat = errors.New("catalog: duplicate flat code")
	ErrInvalidName   = errors.New("catalog: invalid code name")
	ErrInvalidStatus = errors.New("catalog: status outside 400-599")
	ErrInvalidFlat   = errors.New("catalog: malformed flat code")
	ErrInvalidPrefix = errors.New("catalog: invalid prefix")
	ErrSequenceFull  = errors.New("catalog: no free flat sequence left for status")
	ErrInvalidMeta   = errors.New("catalog: invalid metadata key")

	ErrInvalidSnapshot = errors.New("catalog: invalid snapshot")
	ErrIncompatible    = errors.New("catalog: incompatible with the snapshot")
)

// Catalog is a set of codes with unique names and flat codes. Lookups are
// lock-free and safe alongside Register; a Catalog must not be copied.
type Catalog struct {
	prefix string

	mu   sync.Mutex // serializes Register; guards nothing else
	snap atomic.Pointer[snapshot]
}

// snapshot is immutable once published.
type snapshot struct {
	byName map[string]*Code
	byFlat map[string]*Code
	sorted []*Code // by status, then flat code
}

// New returns a catalog holding the built-in codes, with flat codes under
// prefix (DefaultPrefix when empty), plus codes, registered as by Register
// after the built-ins: a built-in's flat code never moves, and a code that
// asks for one fails with ErrDuplicateFlat.
func New(prefix string, codes ...Code) (*Catalog, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !validPrefix(prefix) {
		return nil, fmt.Errorf("%w %q: want 1 to 16 of A-Z and 0-9, starting with a letter", ErrInvalidPrefix, prefix)
	}
	c := &Catalog{prefix: prefix}
	c.snap.Store(&snapshot{byName: map[string]*Code{}, byFlat: map[string]*Code{}})
	// The built-ins go in first and on their own, so that their flat codes
	// depend on nothing but the prefix: an explicit Flat among codes that
	// names a built-in's code is a duplicate, as it is for Register.
	if err := c.Register(builtins()...); err != nil {
		return nil, err
	}
	if err := c.Register(codes...); err != nil {
		return nil, err
	}
	return c, nil
}

// MustNew is New that panics on error, for catalogs built at start-up.
func MustNew(prefix string, codes ...Code) *Catalog {
	c, err := New(prefix, codes...)
	if err != nil {
		panic(err)
	}
	return c
}

// Prefix returns the flat-code prefix.
func (c *Catalog) Prefix() string { return c.prefix }

// Register adds codes to the catalog, all or none: the first invalid or
// duplicate code fails the whole call and the catalog is left unchanged.
// Defaults are filled in as documented on Code.
func (c *Catalog) Register(codes ...Code) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.snap.Load()
	next := &snapshot{
		byName: make(map[string]*Code, len(old.byName)+len(codes)),
		byFlat: make(map[string]*Code, len(old.byFlat)+len(codes)),
	}
	for k, v := range old.byName {
		next.byName[k] = v
	}
	for k, v := range old.byFlat {
		next.byFlat[k] = v
	}
	// Explicit flat codes first, so an automatic sequence never takes a
	// number that a later code in the same call asks for.
	for i := range codes {
		if codes[i].Flat != "" {
			if err := c.add(next, codes[i]); err != nil {
				return err
			}
		}
	}
	for i := range codes {
		if codes[i].Flat == "" {
			if err := c.add(next, codes[i]); err != nil {
				return err
			}
		}
	}
	next.sorted = make([]*Code, 0, len(next.byName))
	for _, v := range next.byName {
		next.sorted = append(next.sorted, v)
	}
	slices.SortFunc(next.sorted, func(a, b *Code) int {
		if a.Status != b.Status {
			return a.Status - b.Status
		}
		return strings.Compare(a.Flat, b.Flat)
	})
	c.snap.Store(next)
	return nil
}

func (c *Catalog) add(s *snapshot, code Code) error {
	if !validName(code.Name) {
		return fmt.Errorf("%w %q: want upper case letters, digits and underscores", ErrInvalidName, code.Name)
	}
	if _, dup := s.byName[code.Name]; dup {
		return fmt.Errorf("%w %q", ErrDuplicateName, code.Name)
	}
	if code.Status < 400 || code.Status > 599 {
		return fmt.Errorf("%w: %s has %d", ErrInvalidStatus, code.Name, code.Status)
	}
	if err := checkMetadata(code); err != nil {
		return err
	}
	code.Metadata = slices.Clone(code.Metadata)
	if code.Flat == "" {
		flat, ok := c.nextFlat(s, code.Status)
		if !ok {
			return fmt.Errorf("%w %d (%s)", ErrSequenceFull, code.Status, code.Name)
		}
		code.Flat = flat
	} else if err := c.checkFlat(code); err != nil {
		return err
	}
	if other, dup := s.byFlat[code.Flat]; dup {
		return fmt.Errorf("%w %q: %s and %s", ErrDuplicateFlat, code.Flat, other.Name, code.Name)
	}
	if code.Google == "" {
		code.Google = code.Name
	}
	if code.Tracked == "" {
		code.Tracked = trackedDefault(code.Status, code.Name)
	}
	if code.Message == "" {
		code.Message = http.StatusText(code.Status)
		if code.Message == "" {
			code.Message = "Error"
		}
	}
	p := &code
	s.byName[code.Name] = p
	s.byFlat[code.Flat] = p
	return nil
}

// checkFlat validates an explicit flat code: PREFIX-SSS-NNN with this
// catalog's prefix, the code's own status and a sequence from 001.
func (c *Catalog) checkFlat(code Code) error {
	want := c.prefix + "-" + strconv.Itoa(code.Status) + "-"
	rest, ok := strings.CutPrefix(code.Flat, want)
	if !ok || len(rest) != 3 || rest == "000" || strings.Trim(rest, "0123456789") != "" {
		return fmt.Errorf("%w %q for %s: want %sNNN (NNN from 001 to 999)", ErrInvalidFlat, code.Flat, code.Name, want)
	}
	return nil
}

func (c *Catalog) nextFlat(s *snapshot, status int) (string, bool) {
	base := c.prefix + "-" + strconv.Itoa(status) + "-"
	for seq := 1; seq <= 999; seq++ {
		flat := fmt.Sprintf("%s%03d", base, seq)
		if _, taken := s.byFlat[flat]; !taken {
			return flat, true
		}
	}
	return "", false
}

// Lookup returns the code named name.
func (c *Catalog) Lookup(name string) (Code, bool) {
	return copyOf(c.snap.Load().byName[name])
}

// copyOf returns a copy of *p that shares nothing with it, and whether p
// is not nil.
func copyOf(p *Code) (Code, bool) {
	if p == nil {
		return Code{}, false
	}
	code := *p
	code.Metadata = slices.Clone(p.Metadata)
	return code, true
}

// Ref returns a pointer to the registered code named name, or nil. The code
// must not be modified; it is shared by every caller. Ref exists for render
// paths that should not copy a Code per response.
func (c *Catalog) Ref(name string) *Code {
	return c.snap.Load().byName[name]
}

// LookupFlat returns the code whose flat code is flat.
func (c *Catalog) LookupFlat(flat string) (Code, bool) {
	return copyOf(c.snap.Load().byFlat[flat])
}

// Codes returns every code, ordered by status and then flat code.
func (c *Catalog) Codes() []Code {
	s := c.snap.Load()
	out := make([]Code, len(s.sorted))
	for i, p := range s.sorted {
		out[i], _ = copyOf(p)
	}
	return out
}

// Len returns the number of codes.
func (c *Catalog) Len() int { return len(c.snap.Load().byName) }

func validName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_') {
			return false
		}
	}
	return true
}

func validPrefix(s string) bool {
	if s == "" || len(s) > 16 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('A' <= b && b <= 'Z' || '0' <= b && b <= '9') {
			return false
		}
	}
	return true
}

// checkMetadata validates the documented metadata keys of code.
func checkMetadata(code Code) error {
	for i, key := range code.Metadata {
		if !validMetaKey(key) {
			return fmt.Errorf("%w %q for %s: want 1 to 64 of A-Z, a-z, 0-9, '_', '-' and '.'", ErrInvalidMeta, key, code.Name)
		}
		if slices.Contains(code.Metadata[:i], key) {
			return fmt.Errorf("%w %q for %s: listed twice", ErrInvalidMeta, key, code.Name)
		}
	}
	return nil
}

func validMetaKey(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_' || b == '-' || b == '.') {
			return false
		}
	}
	return true
}
