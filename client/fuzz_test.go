package client

import (
	"encoding/base64"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseSFList checks that any input either fails or parses to members
// that serialize back to a string parsing to the same members.
func FuzzParseSFList(f *testing.F) {
	for _, s := range []string{
		`"sandbox";r=8;t=1, "reports";r=0;t=1`,
		`sandbox;r=0;t=3`,
		`("a" b);x=1.5, :AQID:;k, ?0;d=@1700000000, %"caf%c3%a9"`,
		`"a\"b\\c";r=-12;w=0.001`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		members, err := parseSFList(in)
		if err != nil {
			return
		}
		out := serializeSF(members)
		again, err := parseSFList(out)
		if err != nil {
			t.Fatalf("parseSFList(%q) = %v, but its serialization %q fails: %v", in, members, out, err)
		}
		if !reflect.DeepEqual(members, again) {
			t.Fatalf("parseSFList(%q) = %v; reparsed from %q = %v", in, members, out, again)
		}
		quotas, err := ParseRateLimit(in)
		if err != nil {
			t.Fatalf("ParseRateLimit(%q) = %v, though it is a List", in, err)
		}
		for _, q := range quotas {
			if q.Remaining < 0 || q.Reset < 0 {
				t.Fatalf("ParseRateLimit(%q) gave %+v", in, q)
			}
		}
	})
}

// FuzzParseRetryAfter checks that any input fails or gives a wait of zero
// or more, and that plain seconds read as themselves.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "-1", "Tue, 24 Nov 2026 19:13:38 GMT", "Tuesday, 24-Nov-26 19:13:38 GMT",
		"Tue Nov 24 19:13:38 2026", "99999999999999999999", "1.5"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 24, 19, 13, 8, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseRetryAfter(in, now)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, want >= 0", in, d)
		}
		if n, err := strconv.ParseUint(strings.Trim(in, " \t"), 10, 32); err == nil && d != time.Duration(n)*time.Second {
			t.Fatalf("ParseRetryAfter(%q) = %v, want %ds", in, d, n)
		}
	})
}

// serializeSF writes members back as an RFC 9651 List (§4.1.1).
func serializeSF(members []sfMember) string {
	var b strings.Builder
	for i, m := range members {
		if i > 0 {
			b.WriteString(", ")
		}
		if m.isList {
			b.WriteByte('(')
			for j, it := range m.inner {
				if j > 0 {
					b.WriteByte(' ')
				}
				writeBare(&b, it.value)
				writeParams(&b, it.params)
			}
			b.WriteByte(')')
		} else {
			writeBare(&b, m.value)
		}
		writeParams(&b, m.params)
	}
	return b.String()
}

func writeParams(b *strings.Builder, ps []sfParam) {
	for _, p := range ps {
		b.WriteString(";" + p.key)
		if p.value.kind != sfBoolean || p.value.n != 1 {
			b.WriteByte('=')
			writeBare(b, p.value)
		}
	}
}

func writeBare(b *strings.Builder, v sfValue) {
	switch v.kind {
	case sfInteger:
		b.WriteString(strconv.FormatInt(v.n, 10))
	case sfDecimal:
		n := v.n
		if n < 0 {
			b.WriteByte('-')
			n = -n
		}
		frac := strings.TrimRight(strconv.FormatInt(1000+n%1000, 10)[1:], "0")
		if frac == "" {
			frac = "0"
		}
		b.WriteString(strconv.FormatInt(n/1000, 10) + "." + frac)
	case sfString:
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v.s))
		b.WriteByte('"')
	case sfToken:
		b.WriteString(v.s)
	case sfBytes:
		b.WriteString(":" + base64.StdEncoding.EncodeToString([]byte(v.s)) + ":")
	case sfBoolean:
		b.WriteString("?" + strconv.FormatInt(v.n, 10))
	case sfDate:
		b.WriteString("@" + strconv.FormatInt(v.n, 10))
	case sfDisplay:
		b.WriteString(`%"`)
		for i := 0; i < len(v.s); i++ {
			c := v.s[i]
			if c == '%' || c == '"' || c < 0x20 || c > 0x7e {
				b.WriteString("%" + strconv.FormatUint(uint64(c)>>4, 16) + strconv.FormatUint(uint64(c)&15, 16))
			} else {
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
}
