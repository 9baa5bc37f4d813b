package reqctx_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/internal/reqctx"
)

// uuidV4 is the canonical text form of a version 4, RFC 4122 variant UUID.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewRequestID(t *testing.T) {
	seen := make(map[string]bool, 10_000)
	for range 10_000 {
		id := reqctx.NewRequestID()
		require.Regexp(t, uuidV4, id, "NewRequestID() = %q, want a canonical v4 UUID", id)
		u, err := uuid.Parse(id)
		require.NoError(t, err, "uuid.Parse(%q)", id)
		require.Equal(t, uuid.Version(4), u.Version(), "uuid.Parse(%q).Version()", id)
		require.Equal(t, uuid.RFC4122, u.Variant(), "uuid.Parse(%q).Variant()", id)
		require.True(t, reqctx.ValidRequestID(id), "ValidRequestID(NewRequestID()) = false, want true")
		require.False(t, seen[id], "NewRequestID() = %q twice", id)
		seen[id] = true
	}
}

func TestNewRequestIDBitsVary(t *testing.T) {
	// Every random hex digit position takes more than one value over a
	// few hundred ids: no byte is left constant by a wrong shift or copy.
	const n = 256
	var ids [n]string
	for i := range ids {
		ids[i] = reqctx.NewRequestID()
	}
	for pos := range len(ids[0]) {
		if pos == 14 || ids[0][pos] == '-' { // version digit, hyphens
			continue
		}
		distinct := map[byte]bool{}
		for _, id := range ids {
			distinct[id[pos]] = true
		}
		assert.Greater(t, len(distinct), 1, "position %d of NewRequestID() never changes", pos)
	}
}

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"empty", "", false},
		{"one letter", "a", true},
		{"one digit", "7", true},
		{"one punctuation", "-", true},
		{"uuid", "0b7d3c8e-6c43-4e1b-9d1f-2f4b8c2a1e90", true},
		{"all classes", "AZaz09._:-", true},
		{"128 chars", strings.Repeat("a", 128), true},
		{"129 chars", strings.Repeat("a", 129), false},
		{"very long", strings.Repeat("a", 10_000), false},
		{"space", "a b", false},
		{"tab", "a\tb", false},
		{"crlf", "abc\r\nSet-Cookie: x=1", false},
		{"nul", "a\x00", false},
		{"slash", "a/b", false},
		{"plus", "a+b", false},
		{"equals", "a=b", false},
		{"angle brackets", "<script>", false},
		{"quote", `"a"`, false},
		{"unicode letter", "é", false},
		{"unicode digit", "٣", false},
		{"invalid utf-8", "\xff", false},
		{"DEL", "a\x7f", false},
		{"128 chars, last bad", strings.Repeat("a", 127) + " ", false},
		{"first bad", " " + strings.Repeat("a", 10), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := reqctx.ValidRequestID(tt.id)
			assert.Equal(t, tt.want, got, "ValidRequestID(%q) = %v, want %v", tt.id, got, tt.want)
		})
	}
}

func TestValidRequestIDEveryByte(t *testing.T) {
	for c := range 256 {
		allowed := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '-'
		id := "x" + string([]byte{byte(c)}) + "x"
		got := reqctx.ValidRequestID(id)
		assert.Equal(t, allowed, got, "ValidRequestID(%q) = %v, want %v", id, got, allowed)
	}
}

func TestFromEmpty(t *testing.T) {
	assert.Nil(t, reqctx.From(context.Background()), "From(context.Background())")
	ctx := context.WithValue(context.Background(), struct{}{}, "x")
	assert.Nil(t, reqctx.From(ctx), "From(ctx with another value)")
}

func TestEnsure(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	st, r2 := reqctx.Ensure(r)
	require.NotNil(t, st, "Ensure(r) state")
	assert.NotSame(t, r, r2, "Ensure(r) must return a new request carrying the state")
	assert.Nil(t, reqctx.From(r.Context()), "Ensure(r) must not modify r")
	assert.Same(t, st, reqctx.From(r2.Context()), "From(Ensure(r) request's context)")
	assert.Equal(t, "", st.ID, "new state's ID")
	assert.False(t, st.WInUse, "new state's WInUse")

	st2, r3 := reqctx.Ensure(r2)
	assert.Same(t, st, st2, "Ensure twice must return the same state")
	assert.Same(t, r2, r3, "Ensure on a request with state must return it unchanged")

	// A derived context keeps the state.
	ctx, cancel := context.WithCancel(r2.Context())
	defer cancel()
	st3, r4 := reqctx.Ensure(r2.WithContext(ctx))
	assert.Same(t, st, st3, "Ensure on a derived context")
	assert.Same(t, ctx, r4.Context())
}

func TestEnsureContext(t *testing.T) {
	base := context.Background()
	st, ctx := reqctx.EnsureContext(base)
	require.NotNil(t, st)
	assert.NotEqual(t, base, ctx)
	assert.Same(t, st, reqctx.From(ctx))

	st2, ctx2 := reqctx.EnsureContext(ctx)
	assert.Same(t, st, st2, "EnsureContext twice must return the same state")
	assert.Equal(t, ctx, ctx2, "EnsureContext on a context with state must return it unchanged")

	assert.Equal(t, "reqctx.WithState", fmt.Sprint(ctx), "the state context's String()")

	// Ensure and EnsureContext share the state.
	r := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx)
	st3, r2 := reqctx.Ensure(r)
	assert.Same(t, st, st3)
	assert.Same(t, r, r2)
}

func TestEnsureStatesAreIndependent(t *testing.T) {
	st1, _ := reqctx.EnsureContext(context.Background())
	st2, _ := reqctx.EnsureContext(context.Background())
	assert.NotSame(t, st1, st2)
	st1.ID = "one"
	assert.Empty(t, st2.ID)
}

// validPattern is the specification ValidRequestID implements.
var validPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func FuzzValidRequestID(f *testing.F) {
	for _, s := range []string{
		"", "a", "req-1", "0b7d3c8e-6c43-4e1b-9d1f-2f4b8c2a1e90", "a b", "<script>", "a\r\nb",
		"é", "\xff", strings.Repeat("a", 128), strings.Repeat("a", 129), "a\n", "a\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		got, want := reqctx.ValidRequestID(id), validPattern.MatchString(id)
		if got != want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", id, got, want)
		}
	})
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = reqctx.NewRequestID()
	}
}

func BenchmarkValidRequestID(b *testing.B) {
	id := reqctx.NewRequestID()
	b.ReportAllocs()
	for b.Loop() {
		if !reqctx.ValidRequestID(id) {
			b.Fatal("invalid")
		}
	}
}

func TestDetach(t *testing.T) {
	t.Run("copies the state", func(t *testing.T) {
		st, ctx := reqctx.EnsureContext(context.Background())
		st.ID = "req-1"
		st.IDHeader[0] = "req-1"
		st.Renderer = "renderer"
		st.Principal = "principal"
		st.WInUse = true
		st.W.Reset(httptest.NewRecorder())
		st.W.WriteHeader(http.StatusOK)

		dctx := reqctx.Detach(ctx)
		d := reqctx.From(dctx)
		require.NotNil(t, d, "From(Detach(ctx))")
		assert.NotSame(t, st, d, "Detach must copy the state")
		assert.Equal(t, "req-1", d.ID)
		assert.Equal(t, "renderer", d.Renderer)
		assert.Equal(t, "principal", d.Principal)
		assert.False(t, d.WInUse, "the copy has no response writer")
		assert.False(t, d.W.Committed(), "the copy has no response writer")

		d.ID = "other"
		d.WInUse = true
		assert.Equal(t, "req-1", st.ID, "writes to the copy must not reach the original")
		assert.True(t, st.W.Committed())
	})
	t.Run("no state", func(t *testing.T) {
		d := reqctx.From(reqctx.Detach(context.Background()))
		require.NotNil(t, d, "Detach of a context without state")
		assert.Empty(t, d.ID)
	})
	t.Run("keeps the parent's values and cancellation", func(t *testing.T) {
		type key struct{}
		parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
		dctx := reqctx.Detach(parent)
		assert.Equal(t, "v", dctx.Value(key{}))
		cancel()
		select {
		case <-dctx.Done():
		default:
			t.Fatal("Detach(ctx).Done() is not closed after ctx is canceled")
		}
		assert.ErrorIs(t, dctx.Err(), context.Canceled)
	})
}
