package jsonw

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// safe reports, for each ASCII byte, whether it can be written inside a JSON
// string without escaping. '<', '>' and '&' are escaped like encoding/json
// does, so a body sniffed as HTML cannot carry markup.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// String appends s as a quoted JSON string. Invalid UTF-8 is replaced by
// U+FFFD, control characters and HTML-significant characters are escaped, and
// U+2028/U+2029 are escaped so the output is also valid JavaScript.
func String(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// Concat appends the concatenation of parts as one quoted JSON string,
// escaped as String does, without building the concatenation first. Each
// part is escaped on its own, so a UTF-8 sequence split across two parts is
// replaced like any other invalid bytes.
func Concat(dst []byte, parts ...string) []byte {
	dst = append(dst, '"')
	for _, s := range parts {
		dst = appendEscaped(dst, s)
	}
	return append(dst, '"')
}

func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// Key appends a quoted object key followed by a colon. Keys are written by the
// library itself, so they are escaped all the same but expected to be plain.
func Key(dst []byte, k string) []byte {
	return append(String(dst, k), ':')
}

// Int appends n as a JSON number.
func Int(dst []byte, n int64) []byte {
	return strconv.AppendInt(dst, n, 10)
}

// Bool appends true or false.
func Bool(dst []byte, b bool) []byte {
	return strconv.AppendBool(dst, b)
}

// Time appends t as a quoted RFC 3339 UTC timestamp with millisecond precision.
func Time(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	return append(dst, '"')
}

// maxPooled is the largest buffer returned to the pool; larger ones, grown by
// an unusual body, are left to the garbage collector so the pool stays small.
const maxPooled = 16 << 10

var pool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}

// Get returns an empty buffer from the pool.
func Get() *[]byte {
	b := pool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// Put returns b to the pool.
func Put(b *[]byte) {
	if cap(*b) > maxPooled {
		return
	}
	pool.Put(b)
}
