package jsonw_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/internal/jsonw"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"plain", "Order 42 not found.", `"Order 42 not found."`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"short escapes", "a\nb\rc\td", `"a\nb\rc\td"`},
		{"other controls", "\x00\x01\x08\x0c\x1f", `"\u0000\u0001\u0008\u000c\u001f"`},
		{"DEL is kept", "\x7f", "\"\x7f\""},
		{"html", "<a href='x'>&</a>", `"\u003ca href='x'\u003e\u0026\u003c/a\u003e"`},
		{"line and paragraph separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"non-ASCII kept", "für 注文 🚀", `"für 注文 🚀"`},
		{"invalid byte", "a\xffb", `"a\ufffdb"`},
		{"each invalid byte replaced", "\xe2\x82", `"\ufffd\ufffd"`},
		{"surrogate half", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"U+FFFD itself", "\ufffd", "\"\ufffd\""},
		{"escape at the end", "abc\n", `"abc\n"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(jsonw.String(nil, tc.in))
			assert.Equal(t, tc.want, got, "String(%q)", tc.in)
			require.True(t, json.Valid([]byte(got)), "String(%q) = %s, not valid JSON", tc.in, got)
		})
	}
}

func TestStringAppends(t *testing.T) {
	dst := []byte(`{"k":`)
	got := jsonw.String(dst, "v")
	assert.Equal(t, `{"k":"v"`, string(got), `String({"k":, "v")`)
}

func TestConcat(t *testing.T) {
	tests := []struct {
		parts []string
		want  string
	}{
		{nil, `""`},
		{[]string{"An error. Reference: ", "exc_1", "."}, `"An error. Reference: exc_1."`},
		{[]string{"<", "\n", "\xff"}, `"\u003c\n\ufffd"`},
		// Each part is escaped on its own: a rune split across parts is two
		// invalid sequences.
		{[]string{"\xe2\x82", "\xac"}, `"\ufffd\ufffd\ufffd"`},
	}
	for _, tc := range tests {
		got := string(jsonw.Concat(nil, tc.parts...))
		assert.Equal(t, tc.want, got, "Concat(%q)", tc.parts)
	}
	whole := "Bestellung <ord_42> \"für\" \u2028 nicht gefunden."
	assert.Equal(t, string(jsonw.String(nil, whole)), string(jsonw.Concat(nil, whole[:10], whole[10:13], whole[13:])),
		"Concat(parts) = String(whole) when parts split at rune boundaries")
}

func TestKey(t *testing.T) {
	assert.Equal(t, `"policy":`, string(jsonw.Key(nil, "policy")), `Key("policy")`)
	assert.Equal(t, `"a\"b":`, string(jsonw.Key(nil, `a"b`)), `Key("a\"b")`)
}

func TestInt(t *testing.T) {
	for _, n := range []int64{0, 404, -1, 1<<63 - 1, -1 << 63} {
		assert.Equal(t, fmt.Sprint(n), string(jsonw.Int(nil, n)), "Int(%d)", n)
	}
}

func TestBool(t *testing.T) {
	assert.Equal(t, "true", string(jsonw.Bool(nil, true)), "Bool(true)")
	assert.Equal(t, "false", string(jsonw.Bool(nil, false)), "Bool(false)")
}

func TestTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2025, 3, 14, 15, 9, 26, 535_897_000, time.UTC), `"2025-03-14T15:09:26.535Z"`},
		{time.Date(2025, 3, 14, 16, 9, 26, 0, time.FixedZone("CET", 3600)), `"2025-03-14T15:09:26.000Z"`},
		{time.Date(2024, 12, 31, 23, 0, 0, 1, time.FixedZone("", -3600)), `"2025-01-01T00:00:00.000Z"`},
	}
	for _, tc := range tests {
		got := string(jsonw.Time(nil, tc.in))
		assert.Equal(t, tc.want, got, "Time(%v)", tc.in)
		var parsed time.Time
		require.NoError(t, json.Unmarshal([]byte(got), &parsed), "Time(%v) = %s does not decode", tc.in, got)
		assert.True(t, parsed.Equal(tc.in.Truncate(time.Millisecond)), "Time(%v) decodes to %v", tc.in, parsed)
	}
}

func TestPool(t *testing.T) {
	b := jsonw.Get()
	*b = append(*b, "leftover"...)
	jsonw.Put(b)
	for range 10 {
		got := jsonw.Get()
		assert.Empty(t, *got, "Get() after Put of a used buffer")
		jsonw.Put(got)
	}

	big := make([]byte, 0, 64<<10)
	jsonw.Put(&big)
	for range 10 {
		got := jsonw.Get()
		assert.LessOrEqual(t, cap(*got), 16<<10, "Get() returned a buffer of cap %d; large buffers must not be pooled", cap(*got))
	}
}

func TestStringAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	s := "Invalid quantity <\xff> \"x\"\u2028 für ünits."
	allocs := testing.AllocsPerRun(100, func() {
		buf = jsonw.String(buf[:0], s)
		buf = jsonw.Concat(buf, s, " Reference: ", s)
		buf = jsonw.Time(buf, time.Unix(0, 0))
		buf = jsonw.Int(buf, -42)
	})
	assert.Zero(t, allocs, "String/Concat/Time/Int into a buffer with room allocate")
}

// replaceInvalid is what decoding String's output must give: s with each
// byte of an invalid UTF-8 sequence replaced by U+FFFD (what encoding/json
// and a []rune conversion do), unlike strings.ToValidUTF8, which replaces a
// run of invalid bytes with one U+FFFD.
func replaceInvalid(s string) string { return string([]rune(s)) }

// FuzzString checks that String always writes one valid JSON string that
// decodes to its input with invalid bytes replaced, writes nothing HTML or
// JavaScript would trip on, and agrees with encoding/json.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "\x00\x1f\x7f", "<>&", "\u2028\u2029", "\xff", "\xe2\x82", "a\xed\xa0\x80b", "🚀\ufffd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := jsonw.String([]byte("x"), s)[1:]
		if !json.Valid(out) {
			t.Fatalf("String(%q) = %s, not valid JSON", s, out)
		}
		if !utf8.Valid(out) {
			t.Fatalf("String(%q) = %q, not valid UTF-8", s, out)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("String(%q) = %s, does not decode: %v", s, out, err)
		}
		if want := replaceInvalid(s); got != want {
			t.Fatalf("String(%q) decodes to %q, want %q", s, got, want)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("String(%q) of valid UTF-8 decodes to %q", s, got)
		}
		std, _ := json.Marshal(s)
		var stdGot string
		if err := json.Unmarshal(std, &stdGot); err != nil || stdGot != got {
			t.Fatalf("String(%q) decodes to %q, encoding/json's to %q", s, got, stdGot)
		}
		inner := string(out[1 : len(out)-1])
		if i := strings.IndexAny(inner, "<>&\u2028\u2029"); i >= 0 {
			t.Fatalf("String(%q) = %s holds %q unescaped", s, out, inner[i:])
		}
		for i := 0; i < len(inner); i++ {
			if inner[i] < 0x20 {
				t.Fatalf("String(%q) = %q holds control byte %#x", s, out, inner[i])
			}
		}
		if c := string(jsonw.Concat(nil, s)); c != string(out) {
			t.Fatalf("Concat(%q) = %s, String = %s", s, c, out)
		}
	})
}

func BenchmarkJSONString(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"ascii", "Invalid quantity. Must be a positive number."},
		{"escapes", `Field "qty" <must> be & positive` + "\n\t\u2028"},
		{"unicode", "Ungültige Menge: 注文の数量は正の数でなければなりません。"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.SetBytes(int64(len(bc.s)))
			b.ReportAllocs()
			for b.Loop() {
				buf = jsonw.String(buf[:0], bc.s)
			}
		})
		b.Run(bc.name+"/encoding_json", func(b *testing.B) {
			b.SetBytes(int64(len(bc.s)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(bc.s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func ExampleString() {
	buf := []byte(`{"message":`)
	buf = jsonw.String(buf, "Invalid <quantity>: \"-1\"\n")
	buf = append(buf, '}')
	fmt.Println(string(buf))
	// Output:
	// {"message":"Invalid \u003cquantity\u003e: \"-1\"\n"}
}
