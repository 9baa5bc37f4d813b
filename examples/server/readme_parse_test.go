package main

// The README's examples are checked against the demo by TestREADMEExamples.
// This file reads them out of the Markdown; readme_test.go runs them.
//
// The format, which every example in README.md follows:
//
//   - A fenced code block (``` with no language, or ```http) that starts
//     with a status line, "HTTP/1.1 404 Not Found", is a response. Header
//     lines follow, "Name: value", then a blank line and the body, which
//     may be pretty-printed JSON. It answers the last curl command above it
//     in a ```sh block.
//   - A fenced code block whose lines start with "$ curl" is a transcript:
//     each "$ curl ..." line is a request, and the lines up to the next
//     "$" line are its response, in the same form.
//   - A response lists every header the demo sends but Date and
//     Content-Length, with the value sent. A line "..." elides the rest of
//     the response: headers not shown and the body are then not checked.
//   - The demo runs in the envelope the response shows (its Content-Type
//     and the shape of its body); other demo flags go in a shell comment at
//     the end of the curl line: "$ curl -i ... # -maintenance". Each block
//     gets a fresh demo whose rate limits stand still in time, so the
//     requests of a transcript are as quick as the README says.
//   - A ```json block holding a log record (an object with "level" and
//     "msg") is the record the demo logs for the request just above it.
//   - "<!-- readme-check: NAME -->" on the line before a block runs it
//     against the handler NAME of readmeTargets instead of the demo.
//
// Request ids, exc_ ids and timestamps are normalized on both sides; every
// other value must match. curl takes -i, -I, -s, -X, -u, -H and -d.

import (
	"bufio"
	"fmt"
	"strings"
)

// curlCmd is one curl command of the README.
type curlCmd struct {
	method string
	url    string
	user   string // user:password of -u, or ""
	header [][2]string
	body   string
	flags  []string // demo flags from the trailing shell comment
}

// respExample is a response as the README shows it.
type respExample struct {
	status  string      // "404 Not Found"
	header  [][2]string // in the README's order
	body    string      // "" when none is shown
	elided  bool        // a "..." line: headers not shown and the body are not checked
	logJSON string      // the log record the README shows for it, if any
}

// step is one request of a transcript and the response the README shows.
type step struct {
	line int // of the response in README.md
	curl curlCmd
	resp respExample
}

// transcript is what runs against one fresh demo: a block's requests, in
// order.
type transcript struct {
	line   int // of the block in README.md
	target string
	steps  []step
}

// fence is a fenced code block of the README.
type fence struct {
	line      int    // of its first content line
	lang      string // after the opening ```
	directive string // NAME of a readme-check comment just above, or ""
	lines     []string
}

// fences returns the fenced code blocks of md.
func fences(md string) []fence {
	var out []fence
	var cur *fence
	prev := ""
	sc := bufio.NewScanner(strings.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &fence{line: n + 1, lang: strings.TrimPrefix(line, "```")}
			if d, ok := strings.CutPrefix(prev, "<!-- readme-check:"); ok {
				cur.directive = strings.TrimSpace(strings.TrimSuffix(d, "-->"))
			}
		case cur != nil && strings.HasPrefix(line, "```"):
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		}
		prev = line
	}
	return out
}

// readmeTranscripts reads the examples out of md.
func readmeTranscripts(md string) ([]transcript, error) {
	var out []transcript
	var pending *curlCmd // the last curl of a ```sh block
	for _, f := range fences(md) {
		switch {
		case f.lang == "sh":
			for _, l := range f.lines {
				if strings.HasPrefix(strings.TrimSpace(l), "curl ") {
					c, err := parseCurl(strings.TrimSpace(l))
					if err != nil {
						return nil, fmt.Errorf("README.md:%d: %w", f.line, err)
					}
					pending = &c
				}
			}
		case f.lang == "json" && len(out) > 0 && isLogRecord(f.lines):
			last := &out[len(out)-1]
			last.steps[len(last.steps)-1].resp.logJSON = strings.Join(f.lines, "\n")
		case f.lang == "" || f.lang == "http":
			s, err := blockTranscript(f, pending)
			if err != nil {
				return nil, err
			}
			if s != nil {
				out = append(out, *s)
			}
		}
	}
	return out, nil
}

// blockTranscript reads a plain block: a transcript of "$ curl" lines, a
// response to pending, or neither (nil).
func blockTranscript(f fence, pending *curlCmd) (*transcript, error) {
	s := &transcript{line: f.line, target: f.directive}
	if len(f.lines) > 0 && strings.HasPrefix(f.lines[0], "HTTP/") {
		if pending == nil {
			return nil, fmt.Errorf("README.md:%d: a response with no curl command above it", f.line)
		}
		resp, err := parseResponse(f.lines)
		if err != nil {
			return nil, fmt.Errorf("README.md:%d: %w", f.line, err)
		}
		s.steps = append(s.steps, step{line: f.line, curl: *pending, resp: resp})
		return s, nil
	}
	for i := 0; i < len(f.lines); i++ {
		cmd, ok := strings.CutPrefix(f.lines[i], "$ ")
		if !ok {
			continue
		}
		if !strings.HasPrefix(cmd, "curl ") {
			return nil, fmt.Errorf("README.md:%d: only curl commands are checked, not %q", f.line+i, cmd)
		}
		c, err := parseCurl(cmd)
		if err != nil {
			return nil, fmt.Errorf("README.md:%d: %w", f.line+i, err)
		}
		j := i + 1
		for j < len(f.lines) && !strings.HasPrefix(f.lines[j], "$ ") {
			j++
		}
		resp, err := parseResponse(f.lines[i+1 : j])
		if err != nil {
			return nil, fmt.Errorf("README.md:%d: %w", f.line+i+1, err)
		}
		s.steps = append(s.steps, step{line: f.line + i + 1, curl: c, resp: resp})
		i = j - 1
	}
	if len(s.steps) == 0 {
		return nil, nil
	}
	return s, nil
}

// parseResponse reads a response: status line, headers, blank line, body.
func parseResponse(lines []string) (respExample, error) {
	var r respExample
	if len(lines) == 0 {
		return r, fmt.Errorf("a curl command with no response shown")
	}
	status, ok := strings.CutPrefix(lines[0], "HTTP/1.1 ")
	if !ok {
		return r, fmt.Errorf("response starts with %q, want an HTTP/1.1 status line", lines[0])
	}
	r.status = status
	i := 1
	for ; i < len(lines) && lines[i] != ""; i++ {
		if lines[i] == "..." {
			r.elided = true
			return r, nil
		}
		k, v, ok := strings.Cut(lines[i], ": ")
		if !ok {
			return r, fmt.Errorf("header line %q is not Name: value", lines[i])
		}
		r.header = append(r.header, [2]string{k, v})
	}
	body := strings.TrimSpace(strings.Join(lines[min(i, len(lines)):], "\n"))
	if strings.HasSuffix(body, "...") {
		return r, fmt.Errorf("a body cannot be elided; elide the whole rest of the response instead")
	}
	r.body = body
	return r, nil
}

// isLogRecord reports whether a JSON block is a log record.
func isLogRecord(lines []string) bool {
	text := strings.Join(lines, "\n")
	return strings.Contains(text, `"level"`) && strings.Contains(text, `"msg"`)
}

// parseCurl reads a curl command line.
func parseCurl(line string) (curlCmd, error) {
	words, comment, err := shellWords(line)
	if err != nil {
		return curlCmd{}, err
	}
	c := curlCmd{method: "GET", flags: strings.Fields(comment)}
	explicit := false
	for i := 1; i < len(words); i++ {
		w := words[i]
		arg := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("curl %s without its argument", w)
			}
			i++
			return words[i], nil
		}
		var a string
		switch w {
		case "-i", "-s", "-si", "-is":
			continue
		case "-I":
			c.method, explicit = "HEAD", true
			continue
		case "-X", "-u", "-H", "-d", "--data", "--data-raw":
			if a, err = arg(); err != nil {
				return c, err
			}
		default:
			if strings.HasPrefix(w, "-") {
				return c, fmt.Errorf("curl option %s is not supported by the README check", w)
			}
			if c.url != "" {
				return c, fmt.Errorf("curl with two URLs, %s and %s", c.url, w)
			}
			c.url = w
			continue
		}
		switch w {
		case "-X":
			c.method, explicit = a, true
		case "-u":
			c.user = a
		case "-H":
			k, v, ok := strings.Cut(a, ":")
			if !ok {
				return c, fmt.Errorf("curl -H %q is not Name: value", a)
			}
			c.header = append(c.header, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		default: // -d
			c.body = a
			if !explicit {
				c.method = "POST"
			}
		}
	}
	if c.url == "" {
		return c, fmt.Errorf("curl without a URL")
	}
	return c, nil
}

// shellWords splits a command line as a POSIX shell would, for the quoting
// the README uses: single quotes, double quotes with backslash escapes, and
// a comment from an unquoted # at the start of a word.
func shellWords(line string) (words []string, comment string, err error) {
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words, strings.TrimSpace(line[i+1:]), nil
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, "", fmt.Errorf("unterminated ' in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, "", fmt.Errorf("unterminated \" in %q", line)
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, "", nil
}
