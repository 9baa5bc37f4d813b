package catalog_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
)

// builtinCount is the number of built-in codes.
const builtinCount = 19

func TestBuiltins(t *testing.T) {
	c := catalog.MustNew("BLUM")
	tests := []struct {
		name      string
		status    int
		flat      string
		tracked   string
		retryable bool
	}{
		{catalog.InvalidArgument, 400, "BLUM-400-001", "INVALID_REQUEST", false},
		{catalog.MissingField, 400, "BLUM-400-002", "INVALID_REQUEST", false},
		{catalog.InvalidFormat, 400, "BLUM-400-003", "INVALID_REQUEST", false},
		{catalog.MissingAuthorization, 401, "BLUM-401-001", "UNAUTHORIZED", false},
		{catalog.MalformedCredentials, 401, "BLUM-401-002", "UNAUTHORIZED", false},
		{catalog.InvalidCredentials, 401, "BLUM-401-003", "UNAUTHORIZED", false},
		{catalog.PermissionDenied, 403, "BLUM-403-001", "FORBIDDEN", false},
		{catalog.NotFound, 404, "BLUM-404-001", "NOT_FOUND", false},
		{catalog.MethodNotAllowed, 405, "BLUM-405-001", "METHOD_NOT_ALLOWED", false},
		{catalog.RequestTimeout, 408, "BLUM-408-001", "REQUEST_TIMEOUT", true},
		{catalog.Conflict, 409, "BLUM-409-001", "CONFLICT", false},
		{catalog.PayloadTooLarge, 413, "BLUM-413-001", "PAYLOAD_TOO_LARGE", false},
		{catalog.UnsupportedMediaType, 415, "BLUM-415-001", "UNSUPPORTED_MEDIA_TYPE", false},
		{catalog.FailedPrecondition, 422, "BLUM-422-001", "VALIDATION_ERROR", false},
		{catalog.ResourceExhausted, 429, "BLUM-429-001", "RATE_LIMIT_EXCEEDED", true},
		{catalog.Internal, 500, "BLUM-500-001", "INTERNAL_ERROR", true},
		{catalog.BadGateway, 502, "BLUM-502-001", "BAD_GATEWAY", true},
		{catalog.Unavailable, 503, "BLUM-503-001", "SERVICE_UNAVAILABLE", true},
		{catalog.DeadlineExceeded, 504, "BLUM-504-001", "TIMEOUT", true},
	}
	require.Equal(t, len(tests), c.Len(), "MustNew(BLUM).Len() = %d, want %d", c.Len(), len(tests))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ok := c.Lookup(tt.name)
			require.True(t, ok, "Lookup(%q) = _, false, want true", tt.name)
			assert.Equal(t, tt.name, code.Name, "Lookup(%q).Name = %q, want %q", tt.name, code.Name, tt.name)
			assert.Equal(t, tt.status, code.Status, "Lookup(%q).Status = %d, want %d", tt.name, code.Status, tt.status)
			assert.Equal(t, tt.flat, code.Flat, "Lookup(%q).Flat = %q, want %q", tt.name, code.Flat, tt.flat)
			assert.Equal(t, tt.tracked, code.Tracked, "Lookup(%q).Tracked = %q, want %q", tt.name, code.Tracked, tt.tracked)
			assert.Equal(t, tt.name, code.Google, "Lookup(%q).Google = %q, want %q", tt.name, code.Google, tt.name)
			assert.Equal(t, tt.retryable, code.Retryable, "Lookup(%q).Retryable = %v, want %v", tt.name, code.Retryable, tt.retryable)
			assert.NotEmpty(t, code.Message, "Lookup(%q).Message = %q, want a default message", tt.name, code.Message)
			assert.NotEmpty(t, code.Resolution, "Lookup(%q).Resolution = %q, want a resolution", tt.name, code.Resolution)

			byFlat, ok := c.LookupFlat(tt.flat)
			require.True(t, ok, "LookupFlat(%q) = _, false, want true", tt.flat)
			assert.Equal(t, tt.name, byFlat.Name, "LookupFlat(%q).Name = %q, want %q", tt.flat, byFlat.Name, tt.name)

			ref := c.Ref(tt.name)
			require.NotNil(t, ref, "Ref(%q) = nil, want the code", tt.name)
			assert.Equal(t, code, *ref, "*Ref(%q) = %+v, want %+v", tt.name, *ref, code)
		})
	}
}

func TestNewPrefix(t *testing.T) {
	tests := []struct {
		name     string
		prefix   string
		want     string // Prefix(); "" when New must fail
		notFound string // flat code of NOT_FOUND
	}{
		{"empty means default", "", catalog.DefaultPrefix, "ERR-404-001"},
		{"letters", "BLUM", "BLUM", "BLUM-404-001"},
		{"one letter", "A", "A", "A-404-001"},
		{"letters and digits", "B2B", "B2B", "B2B-404-001"},
		{"sixteen characters", "ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOP-404-001"},
		{"lower case", "blum", "", ""},
		{"mixed case", "Blum", "", ""},
		{"leading digit", "1BLUM", "", ""},
		{"dash", "BL-UM", "", ""},
		{"underscore", "BL_UM", "", ""},
		{"space", "BLUM ", "", ""},
		{"seventeen characters", "ABCDEFGHIJKLMNOPQ", "", ""},
		{"non-ASCII", "BLÜM", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := catalog.New(tt.prefix)
			if tt.want == "" {
				require.Error(t, err, "New(%q) = _, nil, want an error", tt.prefix)
				assert.ErrorIs(t, err, catalog.ErrInvalidPrefix, "New(%q) = %v, want %v", tt.prefix, err, catalog.ErrInvalidPrefix)
				assert.Nil(t, c, "New(%q) = %v, _, want nil", tt.prefix, c)
				return
			}
			require.NoError(t, err, "New(%q) = _, %v, want nil", tt.prefix, err)
			assert.Equal(t, tt.want, c.Prefix(), "New(%q).Prefix() = %q, want %q", tt.prefix, c.Prefix(), tt.want)
			code, _ := c.Lookup(catalog.NotFound)
			assert.Equal(t, tt.notFound, code.Flat, "New(%q).Lookup(NOT_FOUND).Flat = %q, want %q", tt.prefix, code.Flat, tt.notFound)
		})
	}
}

func TestMustNewPanics(t *testing.T) {
	defer func() {
		v := recover()
		require.NotNil(t, v, "MustNew(%q) did not panic, want a panic", "bad prefix")
		err, ok := v.(error)
		require.True(t, ok, "MustNew(%q) panicked with %T, want an error", "bad prefix", v)
		assert.ErrorIs(t, err, catalog.ErrInvalidPrefix, "MustNew(%q) panicked with %v, want %v", "bad prefix", err, catalog.ErrInvalidPrefix)
	}()
	catalog.MustNew("bad prefix")
}

func TestNewWithCodes(t *testing.T) {
	t.Run("registered", func(t *testing.T) {
		c, err := catalog.New("BLUM", catalog.Code{Name: "DUPLICATE_ORDER", Status: 409})
		require.NoError(t, err, "New(BLUM, DUPLICATE_ORDER) = _, %v, want nil", err)
		code, ok := c.Lookup("DUPLICATE_ORDER")
		require.True(t, ok, "Lookup(DUPLICATE_ORDER) = _, false, want true")
		assert.Equal(t, "BLUM-409-002", code.Flat, "Lookup(DUPLICATE_ORDER).Flat = %q, want %q", code.Flat, "BLUM-409-002")
		assert.Equal(t, builtinCount+1, c.Len(), "Len() = %d, want %d", c.Len(), builtinCount+1)
	})
	t.Run("invalid code fails New", func(t *testing.T) {
		c, err := catalog.New("BLUM", catalog.Code{Name: catalog.NotFound, Status: 404})
		assert.ErrorIs(t, err, catalog.ErrDuplicateName, "New(BLUM, NOT_FOUND) = _, %v, want %v", err, catalog.ErrDuplicateName)
		assert.Nil(t, c, "New(BLUM, NOT_FOUND) = %v, _, want nil", c)
	})
}

// TestBuiltinFlatNeverMoves holds New and Register to the same rule: a code
// that asks for a built-in's flat code is a duplicate, and the built-in
// keeps its code.
func TestBuiltinFlatNeverMoves(t *testing.T) {
	tests := []struct {
		name string
		code catalog.Code
	}{
		{"first of a status", catalog.Code{Name: "GONE_AWAY", Status: 404, Flat: "BLUM-404-001"}},
		{"second of a status", catalog.Code{Name: "SHAPE_WRONG", Status: 400, Flat: "BLUM-400-002"}},
		{"last built-in", catalog.Code{Name: "TOO_SLOW", Status: 504, Flat: "BLUM-504-001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := catalog.New("BLUM", tt.code)
			assert.ErrorIs(t, err, catalog.ErrDuplicateFlat, "New(BLUM, %+v) = _, %v, want %v", tt.code, err, catalog.ErrDuplicateFlat)
			assert.Nil(t, c, "New(BLUM, %+v) = %v, _, want nil", tt.code, c)

			c = catalog.MustNew("BLUM")
			before := c.Codes()
			err = c.Register(tt.code)
			assert.ErrorIs(t, err, catalog.ErrDuplicateFlat, "Register(%+v) = %v, want %v", tt.code, err, catalog.ErrDuplicateFlat)
			assert.Equal(t, before, c.Codes(), "Codes() changed after Register(%+v) failed", tt.code)
		})
	}
	t.Run("the built-ins keep their codes beside a user code", func(t *testing.T) {
		c, err := catalog.New("BLUM", catalog.Code{Name: "GONE_AWAY", Status: 404, Flat: "BLUM-404-002"})
		require.NoError(t, err, "New(BLUM, GONE_AWAY at BLUM-404-002) = _, %v, want nil", err)
		got, _ := c.Lookup(catalog.NotFound)
		assert.Equal(t, "BLUM-404-001", got.Flat, "Lookup(NOT_FOUND).Flat = %q, want %q", got.Flat, "BLUM-404-001")
	})
}

func TestLookupMissing(t *testing.T) {
	c := catalog.MustNew("BLUM")
	tests := []struct {
		name string
		key  string
	}{
		{"unknown", "NO_SUCH_CODE"},
		{"empty", ""},
		{"lower case of a built-in", "not_found"},
		{"flat code as a name", "BLUM-404-001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.Lookup(tt.key)
			assert.False(t, ok, "Lookup(%q) = _, true, want false", tt.key)
			assert.Equal(t, catalog.Code{}, got, "Lookup(%q) = %+v, want the zero Code", tt.key, got)
			assert.Nil(t, c.Ref(tt.key), "Ref(%q) = %+v, want nil", tt.key, c.Ref(tt.key))
		})
	}
	for _, flat := range []string{"BLUM-404-002", "ERR-404-001", "NOT_FOUND", ""} {
		t.Run("flat "+flat, func(t *testing.T) {
			got, ok := c.LookupFlat(flat)
			assert.False(t, ok, "LookupFlat(%q) = _, true, want false", flat)
			assert.Equal(t, catalog.Code{}, got, "LookupFlat(%q) = %+v, want the zero Code", flat, got)
		})
	}
}

func TestLookupReturnsCopy(t *testing.T) {
	c := catalog.MustNew("BLUM")
	code, _ := c.Lookup(catalog.NotFound)
	code.Message = "changed"
	codes := c.Codes()
	codes[0].Message = "changed too"

	again, _ := c.Lookup(catalog.NotFound)
	assert.Equal(t, "Resource not found.", again.Message, "Lookup(NOT_FOUND).Message = %q after changing a copy, want %q", again.Message, "Resource not found.")
	first := c.Codes()[0]
	assert.NotEqual(t, "changed too", first.Message, "Codes()[0].Message = %q after changing a copy, want the original", first.Message)
	assert.Same(t, c.Ref(catalog.NotFound), c.Ref(catalog.NotFound), "Ref(NOT_FOUND) returned two pointers, want one shared code")
}

func TestCodesOrder(t *testing.T) {
	c := catalog.MustNew("BLUM")
	require.NoError(t, c.Register(
		catalog.Code{Name: "TEAPOT", Status: 418},
		catalog.Code{Name: "LATE_CONFLICT", Status: 409, Flat: "BLUM-409-009"},
		catalog.Code{Name: "EARLY_CONFLICT", Status: 409},
	))
	codes := c.Codes()
	require.Len(t, codes, builtinCount+3, "len(Codes()) = %d, want %d", len(codes), builtinCount+3)

	var got []string
	for _, code := range codes {
		got = append(got, code.Flat)
	}
	want := []string{
		"BLUM-400-001", "BLUM-400-002", "BLUM-400-003",
		"BLUM-401-001", "BLUM-401-002", "BLUM-401-003",
		"BLUM-403-001", "BLUM-404-001", "BLUM-405-001", "BLUM-408-001",
		"BLUM-409-001", "BLUM-409-002", "BLUM-409-009",
		"BLUM-413-001", "BLUM-415-001", "BLUM-418-001", "BLUM-422-001",
		"BLUM-429-001", "BLUM-500-001", "BLUM-502-001", "BLUM-503-001", "BLUM-504-001",
	}
	assert.Equal(t, want, got, "Codes() flat codes = %v, want %v", got, want)
	assert.Equal(t, "EARLY_CONFLICT", codes[11].Name, "Codes()[11].Name = %q, want %q", codes[11].Name, "EARLY_CONFLICT")
	assert.True(t, slices.IsSortedFunc(codes, func(a, b catalog.Code) int {
		if a.Status != b.Status {
			return a.Status - b.Status
		}
		return strings.Compare(a.Flat, b.Flat)
	}), "Codes() is not ordered by status, then flat code")
}

func TestConcurrentRegisterAndLookup(t *testing.T) {
	c := catalog.MustNew("BLUM")
	const writers, perWriter = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				errs <- c.Register(catalog.Code{Name: fmt.Sprintf("USER_%d_%d", w, i), Status: 418})
			}
		}()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code, ok := c.Lookup(catalog.NotFound); !ok || code.Flat != "BLUM-404-001" {
					errs <- fmt.Errorf("Lookup(NOT_FOUND) = %+v, %v, want BLUM-404-001, true", code, ok)
					return
				}
				if _, ok := c.LookupFlat("BLUM-500-001"); !ok {
					errs <- errors.New("LookupFlat(BLUM-500-001) = _, false, want true")
					return
				}
				_ = c.Ref(catalog.Internal)
				if n := len(c.Codes()); n < builtinCount {
					errs <- fmt.Errorf("len(Codes()) = %d, want at least %d", n, builtinCount)
					return
				}
				_ = c.WriteMarkdown(discard{})
				if _, err := c.MarshalJSON(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	require.Equal(t, builtinCount+writers*perWriter, c.Len(), "Len() = %d, want %d", c.Len(), builtinCount+writers*perWriter)
	seen := map[string]bool{}
	for _, code := range c.Codes() {
		if code.Status != 418 {
			continue
		}
		require.False(t, seen[code.Flat], "flat code %s assigned twice", code.Flat)
		seen[code.Flat] = true
	}
	for seq := 1; seq <= writers*perWriter; seq++ {
		flat := fmt.Sprintf("BLUM-418-%03d", seq)
		assert.True(t, seen[flat], "LookupFlat(%q) missing after concurrent Register, want contiguous sequences", flat)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
