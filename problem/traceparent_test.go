package problem

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

const (
	validTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	validParent = "00f067aa0ba902b7"
)

func TestParseTraceparent(t *testing.T) {
	tests := []struct {
		name, v, want string
	}{
		{"version 00", "00-" + validTrace + "-" + validParent + "-01", validTrace},
		{"not sampled", "00-" + validTrace + "-" + validParent + "-00", validTrace},
		{"later version, more fields", "cc-" + validTrace + "-" + validParent + "-01-what-the-future-holds", validTrace},
		{"later version, exact length", "01-" + validTrace + "-" + validParent + "-01", validTrace},
		{"empty", "", ""},
		{"version ff", "ff-" + validTrace + "-" + validParent + "-01", ""},
		{"version 00 with more fields", "00-" + validTrace + "-" + validParent + "-01-extra", ""},
		{"later version, no dash after flags", "01-" + validTrace + "-" + validParent + "-01x", ""},
		{"all-zero trace id", "00-" + strings.Repeat("0", 32) + "-" + validParent + "-01", ""},
		{"all-zero parent id", "00-" + validTrace + "-" + strings.Repeat("0", 16) + "-01", ""},
		{"upper-case hex", "00-" + strings.ToUpper(validTrace) + "-" + validParent + "-01", ""},
		{"short trace id", "00-" + validTrace[1:] + "-" + validParent + "-01", ""},
		{"wrong separator", "00_" + validTrace + "-" + validParent + "-01", ""},
		{"non-hex flags", "00-" + validTrace + "-" + validParent + "-0g", ""},
		{"non-hex version", "0x-" + validTrace + "-" + validParent + "-01", ""},
		{"surrounding space", " 00-" + validTrace + "-" + validParent + "-01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseTraceparent(tt.v); got != tt.want {
				t.Errorf("parseTraceparent(%q) = %q, want %q", tt.v, got, tt.want)
			}
		})
	}
}

func TestTraceIDHeader(t *testing.T) {
	v := "00-" + validTrace + "-" + validParent + "-01"
	if got := traceID(http.Header{HeaderTraceparent: {v}}); got != validTrace {
		t.Errorf("traceID(one header) = %q, want %q", got, validTrace)
	}
	if got := traceID(http.Header{HeaderTraceparent: {v, v}}); got != "" {
		t.Errorf("traceID(two headers) = %q, want \"\"", got)
	}
	if got := traceID(http.Header{}); got != "" {
		t.Errorf("traceID(no header) = %q, want \"\"", got)
	}
}

// traceparentRE is the W3C grammar, for the fuzzer to hold the parser to.
var traceparentRE = regexp.MustCompile(`(?s)^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$`)

// FuzzParseTraceparent holds parseTraceparent to the W3C grammar: it
// returns the trace id exactly when the value matches it with a version
// other than ff, non-zero ids, and nothing after the flags in version 00.
func FuzzParseTraceparent(f *testing.F) {
	f.Add("00-" + validTrace + "-" + validParent + "-01")
	f.Add("ff-" + validTrace + "-" + validParent + "-01")
	f.Add("01-" + validTrace + "-" + validParent + "-01-x")
	f.Fuzz(func(t *testing.T, v string) {
		got := parseTraceparent(v)
		want := ""
		if m := traceparentRE.FindStringSubmatch(v); m != nil && m[1] != "ff" &&
			m[2] != strings.Repeat("0", 32) && m[3] != strings.Repeat("0", 16) && !(m[1] == "00" && m[5] != "") {
			want = m[2]
		}
		if got != want {
			t.Fatalf("parseTraceparent(%q) = %q, want %q", v, got, want)
		}
	})
}
