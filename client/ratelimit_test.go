package client_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/faultline-go/faultline/client"
)

func TestParseRateLimit(t *testing.T) {
	cases := []struct {
		name  string
		in    []string
		want  []client.Quota
		fails bool
	}{
		{"faultline pair", []string{`"sandbox";r=8;t=1, "reports";r=0;t=1`},
			[]client.Quota{{"sandbox", 8, time.Second}, {"reports", 0, time.Second}}, false},
		{"token name", []string{`sandbox;r=0;t=3`}, []client.Quota{{"sandbox", 0, 3 * time.Second}}, false},
		{"lines joined", []string{`"a";r=1;t=2`, `"b";r=0;t=5`},
			[]client.Quota{{"a", 1, 2 * time.Second}, {"b", 0, 5 * time.Second}}, false},
		{"quoted name holding separators", []string{`"a,b;r=9";r=0;t=4`}, []client.Quota{{"a,b;r=9", 0, 4 * time.Second}}, false},
		{"escapes in name", []string{`"q\"\\";r=2`}, []client.Quota{{`q"\`, 2, 0}}, false},
		{"unknown parameters ignored", []string{`"a";pk=:cGsx:;r=3;x=?1;t=6;w=1.5`}, []client.Quota{{"a", 3, 6 * time.Second}}, false},
		{"ows between members", []string{"\"a\";r=1 ,\t\"b\";r=2"}, []client.Quota{{"a", 1, 0}, {"b", 2, 0}}, false},
		{"later parameter wins", []string{`"a";r=5;r=0;t=2`}, []client.Quota{{"a", 0, 2 * time.Second}}, false},
		{"member without r skipped", []string{`"a";t=1, "b";r=1`}, []client.Quota{{"b", 1, 0}}, false},
		{"r not an integer skipped", []string{`"a";r=1.5;t=1, "b";r="1", "c";r=-1`}, nil, false},
		{"negative t is no reset", []string{`"a";r=0;t=-3`}, []client.Quota{{"a", 0, 0}}, false},
		{"name of another type skipped", []string{`1;r=0;t=1, ?1;r=0, :AQ==:;r=0, @1;r=0`}, nil, false},
		{"inner list skipped", []string{`("a" "b");r=0;t=1, "c";r=0;t=1`}, []client.Quota{{"c", 0, time.Second}}, false},
		{"huge t saturates", []string{`"a";r=0;t=999999999999999`}, []client.Quota{{"a", 0, time.Duration(1<<63 - 1)}}, false},
		{"empty", []string{``}, nil, false},
		{"trailing comma", []string{`"a";r=0,`}, nil, true},
		{"unterminated string", []string{`"a;r=0`}, nil, true},
		{"bad escape", []string{`"a\x";r=0`}, nil, true},
		{"integer too long", []string{`"a";r=1234567890123456`}, nil, true},
		{"decimal too precise", []string{`"a";r=1;w=1.2345`}, nil, true},
		{"upper-case key", []string{`"a";R=0`}, nil, true},
		{"garbage between members", []string{`"a";r=0 "b";r=1`}, nil, true},
		{"non-ascii", []string{"\"é\";r=0"}, nil, true},
		{"bad display string", []string{`%"%ff";r=0`}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := client.ParseRateLimit(tc.in...)
			if tc.fails {
				assert.ErrorIs(t, err, client.ErrMalformedHeader, "ParseRateLimit(%q) = %v, %v, want ErrMalformedHeader", tc.in, got, err)
				assert.Nil(t, got)
				return
			}
			assert.NoError(t, err, "ParseRateLimit(%q)", tc.in)
			assert.Equal(t, tc.want, got, "ParseRateLimit(%q) = %v, want %v", tc.in, got, tc.want)
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 19, 13, 8, 0, time.UTC)
	cases := []struct {
		in    string
		want  time.Duration
		fails bool
	}{
		{"0", 0, false},
		{"1", time.Second, false},
		{" 120 ", 2 * time.Minute, false},
		{"-5", 0, false},
		{"99999999999999999999999", time.Duration(1<<63 - 1), false},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, false},
		{"Tuesday, 24-Nov-26 19:14:08 GMT", time.Minute, false}, // RFC 850
		{"Tue Nov 24 19:13:18 2026", 10 * time.Second, false},   // asctime
		{"Tue, 24 Nov 2026 19:13:07 GMT", 0, false},             // past
		{"", 0, true},
		{"1.5", 0, true},
		{"soon", 0, true},
		{"-", 0, true},
		{"2 s", 0, true},
	}
	for _, tc := range cases {
		got, err := client.ParseRetryAfter(tc.in, now)
		if tc.fails {
			assert.ErrorIs(t, err, client.ErrMalformedHeader, "ParseRetryAfter(%q) = %v, %v, want ErrMalformedHeader", tc.in, got, err)
			continue
		}
		assert.NoError(t, err, "ParseRetryAfter(%q)", tc.in)
		assert.Equal(t, tc.want, got, "ParseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
	}
}
