package reference

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name   string
		accept []string
		want   format
	}{
		{"no header", nil, formatJSON},
		{"empty", []string{""}, formatJSON},
		{"json", []string{"application/json"}, formatJSON},
		{"markdown", []string{"text/markdown"}, formatMarkdown},
		{"markdown, case-insensitive", []string{"Text/Markdown"}, formatMarkdown},
		{"markdown with charset", []string{"text/markdown; charset=utf-8"}, formatMarkdown},
		{"anything", []string{"*/*"}, formatJSON},
		{"text range", []string{"text/*"}, formatMarkdown},
		{"application range", []string{"application/*"}, formatJSON},
		{"markdown preferred by q", []string{"application/json;q=0.5, text/markdown"}, formatMarkdown},
		{"json preferred by q", []string{"text/markdown;q=0.4, application/json;q=0.8"}, formatJSON},
		{"tie goes to json", []string{"text/markdown, application/json"}, formatJSON},
		{"tie goes to json, any order", []string{"application/json;q=0.7,text/markdown;q=0.7"}, formatJSON},
		{"markdown over a wildcard", []string{"text/markdown, */*;q=0.1"}, formatMarkdown},
		{"browser style", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, formatJSON},
		{"most specific range wins", []string{"text/*;q=0.9, text/markdown;q=0.1, application/json;q=0.5"}, formatJSON},
		{"specific range over a wider one", []string{"text/markdown;q=0.9, text/*;q=0.1, */*;q=0.2"}, formatMarkdown},
		{"json refused, markdown by wildcard", []string{"application/json;q=0, */*"}, formatMarkdown},
		{"markdown refused", []string{"text/markdown;q=0, */*;q=0.1"}, formatJSON},
		{"both refused falls back to json", []string{"text/markdown;q=0, application/json;q=0"}, formatJSON},
		{"neither offered falls back to json", []string{"text/html, image/png"}, formatJSON},
		{"header lines combine", []string{"application/json;q=0.2", "text/markdown;q=0.3"}, formatMarkdown},
		{"ranges of one offer over two lines", []string{"text/*;q=0.9", "text/markdown;q=0.1, application/json;q=0.5"}, formatJSON},
		{"q with spaces", []string{"text/markdown ; q = 1 , application/json ; q=0.9"}, formatMarkdown},
		{"Q upper case", []string{"application/json;Q=0.1, text/markdown"}, formatMarkdown},
		{"q 1.000", []string{"text/markdown;q=1.000, application/json;q=0.999"}, formatMarkdown},
		{"accept extension after q", []string{"text/markdown;q=0.9;ext=1, application/json;q=0.8"}, formatMarkdown},
		{"q above 1 is malformed", []string{"text/markdown;q=2, application/json;q=0.1"}, formatJSON},
		{"q 1.001 is malformed", []string{"text/markdown;q=1.001, application/json;q=0.1"}, formatJSON},
		{"q with four decimals is malformed", []string{"text/markdown;q=0.1234, application/json;q=0.1"}, formatJSON},
		{"negative q is malformed", []string{"text/markdown;q=-1, application/json;q=0.1"}, formatJSON},
		{"q not a number", []string{"text/markdown;q=abc"}, formatJSON},
		{"empty q", []string{"text/markdown;q="}, formatJSON},
		{"q NaN", []string{"text/markdown;q=NaN"}, formatJSON},
		{"no subtype", []string{"text"}, formatJSON},
		{"wildcard type with subtype", []string{"*/markdown"}, formatJSON},
		{"space in type", []string{"text/mark down"}, formatJSON},
		{"empty items", []string{",,, text/markdown ,,"}, formatMarkdown},
		{"malformed item beside a good one", []string{"text/markdown;q=x, text/*;q=0.5"}, formatMarkdown},
		{"comma in a quoted parameter", []string{`text/markdown;variant="a,b";q=0.9, application/json;q=0.5`}, formatMarkdown},
		{"semicolon and escaped quote in a quoted parameter", []string{`text/markdown;v="x\";q=0";q=0.8, application/json;q=0.5`}, formatMarkdown},
		{"unclosed quote swallows the rest", []string{`application/json;v="x, text/markdown`}, formatJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := negotiate(tt.accept)
			assert.Equal(t, tt.want, got, "negotiate(%q) = %v, want %v", tt.accept, got, tt.want)
		})
	}
}

func TestCutUnquoted(t *testing.T) {
	tests := []struct {
		in            string
		before, after string
	}{
		{"a,b", "a", "b"},
		{"a", "a", ""},
		{`a="x,y",b`, `a="x,y"`, "b"},
		{`a="x\",y",b`, `a="x\",y"`, "b"},
		{`a="x,b`, `a="x,b`, ""},
		{",", "", ""},
	}
	for _, tt := range tests {
		before, after := cutUnquoted(tt.in, ',')
		assert.Equal(t, tt.before, before, "cutUnquoted(%q, ',') before = %q, want %q", tt.in, before, tt.before)
		assert.Equal(t, tt.after, after, "cutUnquoted(%q, ',') after = %q, want %q", tt.in, after, tt.after)
	}
}

func TestQValue(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"0.5", 0.5, true}, {"0.125", 0.125, true},
		{"1.", 1, true}, {"1.0", 1, true}, {"1.000", 1, true}, {"0.", 0, true},
		{"", 0, false}, {"1.5", 0, false}, {"2", 0, false}, {"0.1234", 0, false},
		{".5", 0, false}, {"+1", 0, false}, {"0x1", 0, false}, {"1e0", 0, false}, {"0.5 ", 0, false},
	}
	for _, tt := range tests {
		got, ok := qvalue(tt.in)
		assert.Equal(t, tt.ok, ok, "qvalue(%q) = _, %v, want %v", tt.in, ok, tt.ok)
		if tt.ok {
			assert.InDelta(t, tt.want, got, 1e-9, "qvalue(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzNegotiate holds negotiate to its promises on any header: no panic,
// and Markdown only when some media range that matches text/markdown has a
// non-zero quality.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "text/markdown", "application/json;q=0.5, text/markdown", "*/*",
		"text/*;q=0.9, text/markdown;q=0.1", "text/markdown;q=1.001", "a/b;q=0;q=1, ,;;=", "TEXT/MARKDOWN;Q=0.000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		got := negotiate([]string{accept})
		if got != formatMarkdown {
			return
		}
		lower := strings.ToLower(accept)
		if !strings.Contains(lower, "markdown") && !strings.Contains(lower, "*") {
			t.Fatalf("negotiate(%q) = markdown, want json: nothing names text/markdown", accept)
		}
		if negotiate([]string{accept}) != got {
			t.Fatalf("negotiate(%q) is not deterministic", accept)
		}
	})
}
