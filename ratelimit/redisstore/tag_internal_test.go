package redisstore

import (
	"strings"
	"testing"
)

// FuzzAppendTag checks the hash tag of any key, which a client chooses:
// no brace, at most maxTagLen bytes, and distinct keys have distinct tags
// (a key kept as it is never has the shape of a hashed one).
func FuzzAppendTag(f *testing.F) {
	for _, seed := range [][2]string{
		{"ip:192.0.2.1", "ip:192.0.2.2"},
		{"", "{}"},
		{"a{b", "a}b"},
		{strings.Repeat("k", 128), strings.Repeat("k", 129)},
		{"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "foo"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ta, tb := string(appendTag(nil, a)), string(appendTag(nil, b))
		for _, tag := range []string{ta, tb} {
			if strings.ContainsAny(tag, "{}") || len(tag) == 0 || len(tag) > maxTagLen {
				t.Fatalf("appendTag(%q) = %q: want 1 to %d bytes without braces", a, tag, maxTagLen)
			}
		}
		if a != b && ta == tb {
			t.Fatalf("appendTag(%q) = appendTag(%q) = %q, want distinct tags", a, b, ta)
		}
		if plainTag(a) != (ta == a) {
			t.Fatalf("appendTag(%q) = %q, plainTag = %v", a, ta, plainTag(a))
		}
	})
}
