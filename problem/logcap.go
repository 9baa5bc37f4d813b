package problem

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Caps on what one log record carries, in bytes of text before JSON
// escaping. A longer text is cut at a UTF-8 boundary and ends with a marker
// saying how many bytes were cut: "…[truncated 20971008 bytes]".
const (
	// MaxLogTextBytes caps each error text, message and panic value, and
	// the request's method and path.
	MaxLogTextBytes = 8 << 10
	// MaxLogStackBytes caps the stack of a recovered panic.
	MaxLogStackBytes = 32 << 10
)

// capText returns s when it fits in max bytes, else its first max bytes,
// cut back to a rune boundary, and the truncation marker.
func capText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := cutAt(s, max)
	return s[:cut] + truncated(len(s)-cut)
}

// cutAt returns the largest rune boundary of s at or below max.
func cutAt[T string | []byte](s T, max int) int {
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return cut
}

// truncated is the marker that ends a text n bytes were cut from.
func truncated(n int) string { return "…[truncated " + strconv.Itoa(n) + " bytes]" }

// panicText formats a panic value for a log record, capped at
// MaxLogTextBytes, without formatting more of it than the cap needs:
// strings and byte slices are cut before anything is copied, errors and
// Stringers are asked for their text, and slices and arrays are formatted
// element by element until the cap is reached. Other values are formatted
// with %v.
func panicText(v any) string {
	switch x := v.(type) {
	case string:
		return capText(x, MaxLogTextBytes)
	case []byte:
		if len(x) <= MaxLogTextBytes {
			return string(x)
		}
		cut := cutAt(x, MaxLogTextBytes)
		return string(x[:cut]) + truncated(len(x)-cut)
	case error:
		return errorText(x)
	case fmt.Stringer:
		return capText(safely(x.String), MaxLogTextBytes)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return capText(rv.String(), MaxLogTextBytes)
	case reflect.Slice, reflect.Array:
		return formatList(rv)
	case reflect.Map:
		if rv.Len() > 64 {
			return rv.Type().String() + " with " + strconv.Itoa(rv.Len()) + " entries"
		}
	}
	return capText(fmt.Sprint(v), MaxLogTextBytes)
}

// formatList formats a slice or array as %v does, "[a b c]", stopping once
// MaxLogTextBytes are written.
func formatList(rv reflect.Value) string {
	var b strings.Builder
	b.WriteByte('[')
	n := rv.Len()
	for i := 0; i < n; i++ {
		if b.Len() > MaxLogTextBytes {
			return capText(b.String(), MaxLogTextBytes) + "…[" + strconv.Itoa(n-i) + " more elements]"
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(panicText(rv.Index(i).Interface()))
	}
	b.WriteByte(']')
	return capText(b.String(), MaxLogTextBytes)
}

// errorText is err.Error(), capped at MaxLogTextBytes.
func errorText(err error) string { return capText(safely(err.Error), MaxLogTextBytes) }

// safely returns f(), or a note of the panic when f panics (a nil receiver
// of an Error or String method), as fmt does: the renderer runs inside
// Recover's deferred function, where a panic would take down the request.
func safely(f func() string) (s string) {
	defer func() {
		if v := recover(); v != nil {
			s = "%!v(PANIC=" + capText(fmt.Sprint(v), 256) + ")"
		}
	}()
	return f()
}
