package reference

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/sample"
	"github.com/faultline-go/faultline/problem"
)

// classes are the status classes of the reference, one table each.
var classes = [...]struct {
	title    string
	low, top int
}{
	{"Client errors (4xx)", 400, 499},
	{"Server errors (5xx)", 500, 599},
}

// WriteMarkdown writes the reference: an introduction, one table per status
// class (each code's name in every envelope, google-strict's being the
// google.rpc.Code name of its status, its problem type and title,
// retryability, message and resolution), then one entry per code under its
// anchor, with its example bodies, pretty-printed.
func (ref *Reference) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("# Error reference\n\n")
	bw.WriteString("The error codes of the catalog with prefix `" + ref.prefix + "`: one table per status class, " +
		"then one entry per code. An entry's anchor is the code's name in kebab case (`#not-found`); with a " +
		"type base URI, the problem envelope's `type` is that base, a slash and the anchor, so it links here. " +
		"The example bodies are the renderer's own for `GET " + sampleRequest + "`, with a fixed request id, " +
		"time and `exc_` id, pretty-printed.\n")
	for _, class := range classes {
		ref.writeTable(bw, class.title, class.low, class.top)
	}
	bw.WriteString("\n## Codes\n")
	for _, code := range ref.codes {
		bw.WriteString("\n")
		ref.writeEntry(bw, code, "###")
	}
	return bw.Flush()
}

// writeTable writes the table of the codes with a status from low to top;
// nothing when there is none.
func (ref *Reference) writeTable(bw *bufio.Writer, title string, low, top int) {
	header := false
	for _, code := range ref.codes {
		if code.Status < low || code.Status > top {
			continue
		}
		if !header {
			bw.WriteString("\n## " + title + "\n\n")
			bw.WriteString("| Name | HTTP | flat | google | google-strict | tracked | problem type | problem title | Retryable | Message | Resolution |\n")
			bw.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
			header = true
		}
		pt := ref.types[code.Name]
		cells := []string{
			"[`" + code.Name + "`](#" + code.Anchor() + ")", strconv.Itoa(code.Status),
			span(code.Flat), span(code.Google), span(problem.GRPCCodeName(code.Status)), span(code.Tracked), span(pt[0]), text(pt[1]),
			yesNo(code.Retryable), text(code.Message), text(code.Resolution),
		}
		bw.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
}

// writeEntry writes the entry of code under a heading of the given level.
func (ref *Reference) writeEntry(bw *bufio.Writer, code catalog.Code, level string) {
	bw.WriteString(`<a id="` + code.Anchor() + `"></a>` + "\n\n")
	bw.WriteString(level + " `" + code.Name + "`\n\n")
	retry := "not retryable"
	if code.Retryable {
		retry = "retryable"
	}
	bw.WriteString(strconv.Itoa(code.Status) + " " + http.StatusText(code.Status) + ", " + retry + ". " + text(code.Message) + "\n\n")
	if code.Resolution != "" {
		bw.WriteString("Resolution: " + text(code.Resolution) + "\n\n")
	}
	pt := ref.types[code.Name]
	bw.WriteString("flat " + span(code.Flat) + ", google " + span(code.Google) +
		", google-strict " + span(problem.GRPCCodeName(code.Status)) + ", tracked " + span(code.Tracked) +
		", problem type " + span(pt[0]) + " with title " + text(pt[1]) + ".\n\n")
	if len(code.Metadata) == 0 {
		bw.WriteString("Metadata keys: none.\n")
	} else {
		keys := make([]string, len(code.Metadata))
		for i, k := range code.Metadata {
			keys[i] = span(k)
		}
		bw.WriteString("Metadata keys: " + strings.Join(keys, ", ") + ".\n")
	}
	for _, ex := range ref.examples[code.Name] {
		bw.WriteString("\n**" + ex.Envelope + "** (`" + ex.ContentType + "`):\n\n```json\n")
		bw.Write(pretty(ex.Body))
		bw.WriteString("\n```\n")
	}
}

// entryMarkdown is the entry of code on its own, as a document.
func (ref *Reference) entryMarkdown(code catalog.Code) []byte {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	ref.writeEntry(bw, code, "#")
	bw.Flush()
	return buf.Bytes()
}

// sampleRequest is the request of the examples, for the introduction.
const sampleRequest = sample.Path

// pretty indents a JSON body; a body that is no JSON is kept as it is.
func pretty(body []byte) []byte {
	var buf bytes.Buffer
	if json.Indent(&buf, body, "", "  ") != nil {
		return body
	}
	return buf.Bytes()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

var (
	// spanEscaper makes a value safe in a code span in a table cell: a pipe
	// splits cells even there, a line break ends the row, and a backtick
	// would end the span.
	spanEscaper = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ", "`", "'")
	// textEscaper makes text safe in a table cell, '<' included, so that
	// "Basic <credentials>" is not taken for an HTML tag.
	textEscaper = strings.NewReplacer("|", `\|`, "<", `\<`, "\r\n", " ", "\n", " ", "\r", " ")
)

func span(s string) string { return "`" + spanEscaper.Replace(s) + "`" }
func text(s string) string { return textEscaper.Replace(s) }
