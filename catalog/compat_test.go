package catalog_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
)

// released is a service's code as it shipped.
var released = catalog.Code{Name: "DUPLICATE_ORDER", Status: 409, Flat: "BLUM-409-002", Google: "DUPLICATE_ORDER",
	Tracked: "CONFLICT", Retryable: false, Message: "Duplicate.", Metadata: []string{"order_id", "client_order_id"}}

// snapshotOf returns the JSON form of the built-in catalog under prefix
// with codes.
func snapshotOf(t *testing.T, prefix string, codes ...catalog.Code) []byte {
	t.Helper()
	raw, err := catalog.MustNew(prefix, codes...).MarshalJSON()
	require.NoError(t, err)
	return raw
}

// TestCompareEachBreak changes the released code in each breaking way and
// expects Compare to report exactly that change.
func TestCompareEachBreak(t *testing.T) {
	old := snapshotOf(t, "BLUM", released)
	change := func(edit func(*catalog.Code)) []catalog.Code {
		c := released
		c.Metadata = append([]string(nil), released.Metadata...)
		edit(&c)
		return []catalog.Code{c}
	}
	tests := []struct {
		name  string
		codes []catalog.Code
		want  []catalog.Change
	}{
		{"code removed", nil,
			[]catalog.Change{{Kind: catalog.CodeRemoved, Code: "DUPLICATE_ORDER"}}},
		{"status changed", change(func(c *catalog.Code) { c.Status, c.Flat = 422, "BLUM-422-002" }),
			[]catalog.Change{
				{Kind: catalog.StatusChanged, Code: "DUPLICATE_ORDER", Old: "409", New: "422"},
				{Kind: catalog.FlatChanged, Code: "DUPLICATE_ORDER", Old: "BLUM-409-002", New: "BLUM-422-002"},
			}},
		{"flat code changed", change(func(c *catalog.Code) { c.Flat = "BLUM-409-007" }),
			[]catalog.Change{{Kind: catalog.FlatChanged, Code: "DUPLICATE_ORDER", Old: "BLUM-409-002", New: "BLUM-409-007"}}},
		{"google status changed", change(func(c *catalog.Code) { c.Google = "ALREADY_EXISTS" }),
			[]catalog.Change{{Kind: catalog.GoogleChanged, Code: "DUPLICATE_ORDER", Old: "DUPLICATE_ORDER", New: "ALREADY_EXISTS"}}},
		{"tracked code changed", change(func(c *catalog.Code) { c.Tracked = "DUPLICATE" }),
			[]catalog.Change{{Kind: catalog.TrackedChanged, Code: "DUPLICATE_ORDER", Old: "CONFLICT", New: "DUPLICATE"}}},
		{"retryable changed", change(func(c *catalog.Code) { c.Retryable = true }),
			[]catalog.Change{{Kind: catalog.RetryableChanged, Code: "DUPLICATE_ORDER", Old: "false", New: "true"}}},
		{"metadata key removed", change(func(c *catalog.Code) { c.Metadata = []string{"client_order_id"} }),
			[]catalog.Change{{Kind: catalog.MetadataKeyRemoved, Code: "DUPLICATE_ORDER", Old: "order_id"}}},
		{"every metadata key removed", change(func(c *catalog.Code) { c.Metadata = nil }),
			[]catalog.Change{
				{Kind: catalog.MetadataKeyRemoved, Code: "DUPLICATE_ORDER", Old: "order_id"},
				{Kind: catalog.MetadataKeyRemoved, Code: "DUPLICATE_ORDER", Old: "client_order_id"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := catalog.MustNew("BLUM", tt.codes...)
			changes, err := cur.CheckCompatible(old)
			assert.Equal(t, tt.want, changes, "CheckCompatible() = %v, want %v", changes, tt.want)
			assert.ErrorIs(t, err, catalog.ErrIncompatible, "CheckCompatible() error = %v, want %v", err, catalog.ErrIncompatible)
			for _, ch := range tt.want {
				assert.Contains(t, err.Error(), ch.String(), "CheckCompatible() error %q does not name %q", err, ch)
			}
		})
	}
}

func TestCompareNoBreak(t *testing.T) {
	old := snapshotOf(t, "BLUM", released)
	tests := []struct {
		name  string
		codes []catalog.Code
	}{
		{"unchanged", []catalog.Code{released}},
		{"code added", []catalog.Code{released, {Name: "ORDER_LOCKED", Status: 409}}},
		{"message, resolution and title changed", []catalog.Code{func() catalog.Code {
			c := released
			c.Message, c.Resolution, c.Title = "Another message.", "Another resolution.", "Duplicate order"
			return c
		}()}},
		{"metadata key added", []catalog.Code{func() catalog.Code {
			c := released
			c.Metadata = []string{"client_order_id", "order_id", "existing_since"}
			return c
		}()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes, err := catalog.MustNew("BLUM", tt.codes...).CheckCompatible(old)
			assert.NoError(t, err, "CheckCompatible() = %v, want nil", err)
			assert.Nil(t, changes, "CheckCompatible() changes = %v, want none", changes)
		})
	}
}

func TestComparePrefixChanged(t *testing.T) {
	old, err := catalog.ParseSnapshot(snapshotOf(t, "BLUM"))
	require.NoError(t, err)
	changes := catalog.MustNew("ACME").Compare(old)
	require.Len(t, changes, len(old.Codes), "Compare(new prefix) = %d changes, want one per code", len(changes))
	for _, ch := range changes {
		assert.Equal(t, catalog.FlatChanged, ch.Kind, "Compare(new prefix) change %v, want %v", ch, catalog.FlatChanged)
	}
	assert.Equal(t, "INVALID_ARGUMENT: flat code changed from BLUM-400-001 to ACME-400-001", changes[0].String())
}

// TestCompatibleWithRelease runs the check this repository asks of every
// change: the built-in catalog breaks neither the last release's snapshot
// nor the committed reference.
func TestCompatibleWithRelease(t *testing.T) {
	for _, path := range []string{"testdata/release/errors.json", "../docs/errors.json"} {
		t.Run(path, func(t *testing.T) {
			snapshot, err := os.ReadFile(path)
			require.NoError(t, err)
			changes, err := catalog.MustNew("").CheckCompatible(snapshot)
			require.NoError(t, err, "the built-in catalog breaks %s", path)
			assert.Empty(t, changes)
		})
	}
}

func TestChangeKindString(t *testing.T) {
	want := map[catalog.ChangeKind]string{
		catalog.CodeRemoved: "code removed", catalog.StatusChanged: "status changed",
		catalog.FlatChanged: "flat code changed", catalog.GoogleChanged: "google status changed",
		catalog.TrackedChanged: "tracked code changed", catalog.RetryableChanged: "retryable changed",
		catalog.MetadataKeyRemoved: "metadata key removed", 0: "ChangeKind(0)", 99: "ChangeKind(99)",
	}
	for k, s := range want {
		assert.Equal(t, s, k.String(), "ChangeKind(%d).String() = %q, want %q", int(k), k.String(), s)
	}
	assert.Equal(t, "X: code removed", catalog.Change{Kind: catalog.CodeRemoved, Code: "X"}.String())
	assert.Equal(t, "X: metadata key removed: id", catalog.Change{Kind: catalog.MetadataKeyRemoved, Code: "X", Old: "id"}.String())
}

func TestParseSnapshot(t *testing.T) {
	good := snapshotOf(t, "BLUM", released)
	s, err := catalog.ParseSnapshot(good)
	require.NoError(t, err)
	assert.Equal(t, "BLUM", s.Prefix)
	assert.Len(t, s.Codes, builtinCount+1)
	dup, _ := catalog.MustNew("BLUM", released).Lookup("DUPLICATE_ORDER")
	assert.Contains(t, s.Codes, dup, "ParseSnapshot() codes lack %+v", dup)

	bad := []struct{ name, data string }{
		{"empty", ``},
		{"not JSON", `prefix: BLUM`},
		{"array", `[]`},
		{"no codes", `{"prefix":"BLUM"}`},
		{"no prefix", `{"codes":[]}`},
		{"null codes", `{"prefix":"BLUM","codes":null}`},
		{"bad prefix", `{"prefix":"blum","codes":[]}`},
		{"code without name", `{"prefix":"BLUM","codes":[{"status":404,"flat":"BLUM-404-001"}]}`},
		{"bad name", `{"prefix":"BLUM","codes":[{"name":"not found","status":404,"flat":"BLUM-404-001"}]}`},
		{"name twice", `{"prefix":"BLUM","codes":[{"name":"A","status":404,"flat":"BLUM-404-001"},{"name":"A","status":404,"flat":"BLUM-404-002"}]}`},
		{"status 200", `{"prefix":"BLUM","codes":[{"name":"A","status":200,"flat":"BLUM-200-001"}]}`},
		{"status as text", `{"prefix":"BLUM","codes":[{"name":"A","status":"404","flat":"BLUM-404-001"}]}`},
		{"no flat", `{"prefix":"BLUM","codes":[{"name":"A","status":404}]}`},
		{"metadata not an array", `{"prefix":"BLUM","codes":[{"name":"A","status":404,"flat":"BLUM-404-001","metadata":"id"}]}`},
		{"trailing data", `{"prefix":"BLUM","codes":[]} {}`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			s, err := catalog.ParseSnapshot([]byte(tt.data))
			assert.ErrorIs(t, err, catalog.ErrInvalidSnapshot, "ParseSnapshot(%s) = _, %v, want %v", tt.data, err, catalog.ErrInvalidSnapshot)
			assert.Nil(t, s, "ParseSnapshot(%s) = %+v, want nil", tt.data, s)
			_, err = catalog.MustNew("BLUM").CheckCompatible([]byte(tt.data))
			assert.ErrorIs(t, err, catalog.ErrInvalidSnapshot, "CheckCompatible(%s) = _, %v, want %v", tt.data, err, catalog.ErrInvalidSnapshot)
		})
	}
	t.Run("unknown members are ignored", func(t *testing.T) {
		s, err := catalog.ParseSnapshot([]byte(`{"prefix":"BLUM","version":2,"codes":[{"name":"A","status":404,"flat":"BLUM-404-001","since":"v2"}]}`))
		require.NoError(t, err)
		assert.Equal(t, []catalog.Code{{Name: "A", Status: 404, Flat: "BLUM-404-001"}}, s.Codes)
	})
}

// FuzzParseSnapshot holds ParseSnapshot to its promises on any input: no
// panic, an error wrapping ErrInvalidSnapshot or a snapshot of valid codes,
// and a snapshot that compares with a catalog without panicking.
func FuzzParseSnapshot(f *testing.F) {
	f.Add([]byte(`{"prefix":"BLUM","codes":[{"name":"A","status":404,"flat":"BLUM-404-001","metadata":["id"]}]}`))
	f.Add([]byte(`{"prefix":"BLUM","codes":[]}`))
	f.Add([]byte(`{"prefix":"BLUM","codes":[{"name":"A","status":1e3,"flat":""}]}`))
	cat := catalog.MustNew("BLUM")
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := catalog.ParseSnapshot(data)
		if err != nil {
			if !assert.ErrorIs(t, err, catalog.ErrInvalidSnapshot) {
				t.Fatalf("ParseSnapshot(%q) = %v, want %v", data, err, catalog.ErrInvalidSnapshot)
			}
			return
		}
		seen := map[string]bool{}
		for _, c := range s.Codes {
			if c.Name == "" || seen[c.Name] || c.Status < 400 || c.Status > 599 || c.Flat == "" {
				t.Fatalf("ParseSnapshot(%q) accepted the code %+v", data, c)
			}
			seen[c.Name] = true
		}
		for _, ch := range cat.Compare(s) {
			if ch.Kind.String() == "" || ch.Code == "" {
				t.Fatalf("Compare() = %+v, want a kind and a code", ch)
			}
		}
	})
}
