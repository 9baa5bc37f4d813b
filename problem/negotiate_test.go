package problem

import (
	"regexp"
	"strings"
	"testing"
)

func TestAcceptWeights(t *testing.T) {
	tests := []struct {
		accept              []string
		wantProblem, wantJS int
	}{
		{[]string{"application/problem+json"}, 1000, 0},
		{[]string{"application/json"}, 0, 1000},
		{[]string{"application/json, application/problem+json;q=0.5"}, 500, 1000},
		{[]string{"application/problem+json;q=0.9, application/json;q=0.8"}, 900, 800},
		{[]string{"*/*"}, 1000, 1000},
		{[]string{"application/*;q=0.5, application/json"}, 500, 1000},
		{[]string{"application/*, application/problem+json;q=0"}, 0, 1000},
		{[]string{"*/*;q=0.1, application/problem+json"}, 1000, 100},
		{[]string{"APPLICATION/Problem+JSON;Q=0.7"}, 700, 0},
		{[]string{"application/json;charset=UTF-8"}, 0, 1000},
		{[]string{`application/json;charset="utf-8"`}, 0, 1000},
		{[]string{`application/json;charset="u\tf-8"`}, 0, 1000}, // a quoted pair: \t is t
		{[]string{`application/json;charset="utf-16"`}, 0, 0},
		{[]string{"application/json;charset=utf-8;q=0.4, application/json;q=0.9"}, 0, 400},
		{[]string{"application/problem+json;charset=utf-8"}, 0, 0},
		{[]string{"application/json;version=2"}, 0, 0},
		{[]string{"application/json;version=2, */*;q=0.2"}, 200, 200},
		{[]string{"application/json; q=1.0"}, 0, 1000},
		{[]string{"application/json;q=1.000"}, 0, 1000},
		{[]string{"application/json;q=0.001"}, 0, 1},
		{[]string{"application/json;q=1.001"}, 0, 0},
		{[]string{"application/json;q=abc"}, 0, 0},
		{[]string{"application/json;q=0.1234"}, 0, 0},
		{[]string{"application/json;q="}, 0, 0},
		{[]string{"application/json;q=.5"}, 0, 0},
		{[]string{"application/json;q=2"}, 0, 0},
		{[]string{`text/html;foo="a,b";q=0.5, application/problem+json`}, 1000, 0},
		{[]string{`text/html;foo="a\",b", application/problem+json`}, 1000, 0},
		{[]string{`application/json;foo="unterminated, application/problem+json`}, 0, 0},
		{[]string{"application/json;;q=0.3"}, 0, 300},
		{[]string{"application/json;q=0.5;level=1"}, 0, 500},
		{[]string{" application/json \t; q=0.5 "}, 0, 500},
		{[]string{"application/json q=0.5"}, 0, 0},
		{[]string{"*/json"}, 0, 0},
		{[]string{"application"}, 0, 0},
		{[]string{"application/"}, 0, 0},
		{[]string{"/json"}, 0, 0},
		{[]string{""}, 0, 0},
		{[]string{",,, ,"}, 0, 0},
		{[]string{"application/json;q=0.2", "application/problem+json"}, 1000, 200},
		{[]string{"application/problem+json;q=0, application/problem+json;q=0.8"}, 800, 0},
		{[]string{"text/html, application/xhtml+xml, */*;q=0.8"}, 800, 800},
	}
	for _, tc := range tests {
		p, j := acceptWeights(tc.accept)
		if p != tc.wantProblem || j != tc.wantJS {
			t.Errorf("acceptWeights(%q) = %d, %d, want %d, %d", tc.accept, p, j, tc.wantProblem, tc.wantJS)
		}
	}
}

func TestAcceptWeightsDoesNotAllocate(t *testing.T) {
	v := []string{`text/html;level="1,2", application/problem+json;q=0.9, application/json;charset=utf-8;q=0.8, */*;q=0.1`}
	if n := testing.AllocsPerRun(100, func() { acceptWeights(v) }); n != 0 {
		t.Errorf("acceptWeights(%q) allocations = %v, want 0", v, n)
	}
}

// simpleAccept matches the Accept values refAcceptWeights handles: no
// quoted strings, every range and parameter well formed.
var simpleAccept = regexp.MustCompile("^(?:[ \t]*[A-Za-z0-9!#$%&'*+.^_`|~-]+/[A-Za-z0-9!#$%&'*+.^_`|~-]+" +
	"(?:[ \t]*;[ \t]*[A-Za-z0-9!#$%&'*+.^_`|~-]+=[A-Za-z0-9!#$%&'*+.^_`|~-]+)*[ \t]*(?:,|$))*$")

var qvalue = regexp.MustCompile(`^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$`)

// refAcceptWeights is acceptWeights written the plain way, with
// strings.Split, for the values simpleAccept matches.
func refAcceptWeights(v string) (problemQ, jsonQ int) {
	type best struct{ spec, q int }
	var bp, bj best
	for _, item := range strings.Split(v, ",") {
		parts := strings.Split(item, ";")
		mt := strings.ToLower(strings.TrimSpace(parts[0]))
		typ, sub, _ := strings.Cut(mt, "/")
		if typ == "*" && sub != "*" {
			continue
		}
		q, params, bad := 1000, map[string]string{}, false
		for _, p := range parts[1:] {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "q" {
				if !qvalue.MatchString(val) {
					bad = true
					break
				}
				q = 0
				for i, c := range strings.Replace(val, ".", "", 1) + "000" {
					if i < 4 {
						q = q*10 + int(c-'0')
					}
				}
				break
			}
			params[k] = strings.ToLower(val)
		}
		if bad {
			continue
		}
		for _, m := range []struct {
			typ, sub, charset string
			b                 *best
		}{{"application", "problem+json", "", &bp}, {"application", "json", "utf-8", &bj}} {
			spec := 0
			switch {
			case typ == "*":
				spec = 1
			case typ == m.typ && sub == "*":
				spec = 2
			case typ == m.typ && sub == m.sub:
				spec = 3 + len(params)
				for k, val := range params {
					if k != "charset" || m.charset == "" || val != m.charset {
						spec = 0
					}
				}
			}
			if spec > m.b.spec || spec == m.b.spec && spec > 0 && q > m.b.q {
				*m.b = best{spec, q}
			}
		}
	}
	return bp.q, bj.q
}

// FuzzAcceptWeights checks that acceptWeights never panics, keeps weights
// in range, ignores case, and agrees with refAcceptWeights wherever that
// applies.
func FuzzAcceptWeights(f *testing.F) {
	for _, s := range []string{"application/problem+json", "application/json;q=0.5, */*;q=0.1",
		`text/html;a="b,c";q=0.3, application/*`, "application/json;charset=UTF-8;q=1.000", "*/json, /", ";;,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		p, j := acceptWeights([]string{accept})
		if p < 0 || p > 1000 || j < 0 || j > 1000 {
			t.Fatalf("acceptWeights(%q) = %d, %d, want weights in [0, 1000]", accept, p, j)
		}
		if up, uj := acceptWeights([]string{strings.ToUpper(accept)}); up != p || uj != j {
			t.Fatalf("acceptWeights(%q) = %d, %d but upper-cased %d, %d", accept, p, j, up, uj)
		}
		if simpleAccept.MatchString(accept) {
			if rp, rj := refAcceptWeights(accept); rp != p || rj != j {
				t.Fatalf("acceptWeights(%q) = %d, %d, reference says %d, %d", accept, p, j, rp, rj)
			}
		}
	})
}
