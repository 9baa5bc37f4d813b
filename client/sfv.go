package client

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

// This file parses RFC 9651 structured field Lists, the syntax of the
// RateLimit header: `"sandbox";r=0;t=3, "reports";r=1;t=1`. It is the whole
// grammar (inner lists, every bare item type, parameters), not a split on
// commas and semicolons, so that a quoted policy name holding ",;=" or a
// parameter the client does not know cannot shift the values it reads.

// sfKind is the type of a bare item.
type sfKind uint8

const (
	sfInteger sfKind = iota + 1
	sfDecimal
	sfString
	sfToken
	sfBytes
	sfBoolean
	sfDate
	sfDisplay
)

// sfValue is a bare item. Integers, dates and booleans (0 or 1) are in n;
// decimals in n as thousandths, so they compare exactly; strings, tokens,
// display strings and byte sequences in s.
type sfValue struct {
	kind sfKind
	n    int64
	s    string
}

// sfParam is one parameter; a bare key is the boolean true.
type sfParam struct {
	key   string
	value sfValue
}

// sfMember is a List member: an item, or an inner list of items when
// inner is set; params are the item's or the inner list's.
type sfMember struct {
	value  sfValue
	inner  []sfItem
	isList bool
	params []sfParam
}

// sfItem is an item of an inner list.
type sfItem struct {
	value  sfValue
	params []sfParam
}

var errSF = errors.New("structured field syntax")

// sfParser holds the input and the read position.
type sfParser struct {
	s string
	i int
}

// parseSFList parses a whole field value as a List (RFC 9651 §4.2.1).
func parseSFList(s string) ([]sfMember, error) {
	p := &sfParser{s: s}
	p.skip(" ")
	var out []sfMember
	for p.i < len(p.s) {
		m, err := p.member()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		p.skip(" \t")
		if p.i == len(p.s) {
			return out, nil
		}
		if p.s[p.i] != ',' {
			return nil, errSF
		}
		p.i++
		p.skip(" \t")
		if p.i == len(p.s) {
			return nil, errSF // trailing comma
		}
	}
	return out, nil
}

func (p *sfParser) skip(set string) {
	for p.i < len(p.s) && strings.IndexByte(set, p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *sfParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *sfParser) member() (sfMember, error) {
	if p.peek() != '(' {
		v, err := p.bare()
		if err != nil {
			return sfMember{}, err
		}
		params, err := p.params()
		return sfMember{value: v, params: params}, err
	}
	p.i++
	m := sfMember{isList: true}
	for {
		p.skip(" ")
		if p.peek() == ')' {
			p.i++
			var err error
			m.params, err = p.params()
			return m, err
		}
		v, err := p.bare()
		if err != nil {
			return sfMember{}, err
		}
		params, err := p.params()
		if err != nil {
			return sfMember{}, err
		}
		m.inner = append(m.inner, sfItem{value: v, params: params})
		if c := p.peek(); c != ' ' && c != ')' {
			return sfMember{}, errSF
		}
	}
}

// params parses ;key[=value] pairs; a key given again keeps its first
// place and takes the later value.
func (p *sfParser) params() ([]sfParam, error) {
	var out []sfParam
	for p.peek() == ';' {
		p.i++
		p.skip(" ")
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		v := sfValue{kind: sfBoolean, n: 1}
		if p.peek() == '=' {
			p.i++
			if v, err = p.bare(); err != nil {
				return nil, err
			}
		}
		out = setParam(out, key, v)
	}
	return out, nil
}

func setParam(ps []sfParam, key string, v sfValue) []sfParam {
	for i := range ps {
		if ps[i].key == key {
			ps[i].value = v
			return ps
		}
	}
	return append(ps, sfParam{key, v})
}

func (p *sfParser) key() (string, error) {
	start := p.i
	if c := p.peek(); !(c >= 'a' && c <= 'z' || c == '*') {
		return "", errSF
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

// bare parses a bare item (RFC 9651 §4.2.3.1).
func (p *sfParser) bare() (sfValue, error) {
	switch c := p.peek(); {
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == '"':
		return p.str()
	case c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return p.token(), nil
	case c == ':':
		return p.bytes()
	case c == '?':
		return p.boolean()
	case c == '@':
		p.i++
		v, err := p.number()
		if err != nil || v.kind != sfInteger {
			return sfValue{}, errSF
		}
		return sfValue{kind: sfDate, n: v.n}, nil
	case c == '%':
		return p.display()
	}
	return sfValue{}, errSF
}

// number parses an Integer (at most 15 digits) or a Decimal (at most 12
// integer and 3 fractional digits).
func (p *sfParser) number() (sfValue, error) {
	neg := p.peek() == '-'
	if neg {
		p.i++
	}
	var n, frac int64
	digits, fracDigits, dot := 0, 0, false
scan:
	for ; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		switch {
		case c >= '0' && c <= '9' && !dot:
			n = n*10 + int64(c-'0')
			digits++
		case c >= '0' && c <= '9':
			frac = frac*10 + int64(c-'0')
			fracDigits++
		case c == '.' && !dot && digits > 0:
			dot = true
			if digits > 12 {
				return sfValue{}, errSF
			}
			continue
		default:
			break scan
		}
		if !dot && digits > 15 || fracDigits > 3 {
			return sfValue{}, errSF
		}
	}
	if digits == 0 || dot && fracDigits == 0 {
		return sfValue{}, errSF
	}
	v := sfValue{kind: sfInteger, n: n}
	if dot {
		for i := fracDigits; i < 3; i++ {
			frac *= 10
		}
		v = sfValue{kind: sfDecimal, n: n*1000 + frac}
	}
	if neg {
		v.n = -v.n
	}
	return v, nil
}

func (p *sfParser) str() (sfValue, error) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.i == len(p.s) || p.s[p.i] != '"' && p.s[p.i] != '\\' {
				return sfValue{}, errSF
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '"':
			return sfValue{kind: sfString, s: b.String()}, nil
		case c < 0x20 || c > 0x7e:
			return sfValue{}, errSF
		default:
			b.WriteByte(c)
		}
	}
	return sfValue{}, errSF // no closing quote
}

func (p *sfParser) token() sfValue {
	start := p.i
	p.i++
	for p.i < len(p.s) && (isTchar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
		p.i++
	}
	return sfValue{kind: sfToken, s: p.s[start:p.i]}
}

// isTchar reports whether c is an RFC 9110 token character.
func isTchar(c byte) bool {
	return isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *sfParser) bytes() (sfValue, error) {
	p.i++
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return sfValue{}, errSF
	}
	enc := p.s[p.i : p.i+end]
	p.i += end + 1
	for i := 0; i < len(enc); i++ {
		if c := enc[i]; !(isAlnum(c) || c == '+' || c == '/' || c == '=') {
			return sfValue{}, errSF
		}
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return sfValue{}, errSF
	}
	return sfValue{kind: sfBytes, s: string(dec)}, nil
}

func (p *sfParser) boolean() (sfValue, error) {
	p.i++
	switch p.peek() {
	case '0', '1':
		v := sfValue{kind: sfBoolean, n: int64(p.s[p.i] - '0')}
		p.i++
		return v, nil
	}
	return sfValue{}, errSF
}

// display parses a Display String, %"...", with lower-case %xx escapes
// that must decode to UTF-8.
func (p *sfParser) display() (sfValue, error) {
	p.i++
	if p.peek() != '"' {
		return sfValue{}, errSF
	}
	p.i++
	var b []byte
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '%':
			if p.i+2 > len(p.s) {
				return sfValue{}, errSF
			}
			hi, ok1 := lowerHex(p.s[p.i])
			lo, ok2 := lowerHex(p.s[p.i+1])
			if !ok1 || !ok2 {
				return sfValue{}, errSF
			}
			b = append(b, hi<<4|lo)
			p.i += 2
		case c == '"':
			if !utf8.Valid(b) {
				return sfValue{}, errSF
			}
			return sfValue{kind: sfDisplay, s: string(b)}, nil
		case c < 0x20 || c > 0x7e:
			return sfValue{}, errSF
		default:
			b = append(b, c)
		}
	}
	return sfValue{}, errSF
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
