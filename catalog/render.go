package catalog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// WriteMarkdown writes the catalog as a Markdown reference table: one row
// per code, ordered by status, with its name in every envelope,
// retryability, message and resolution.
func (c *Catalog) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("| Name | HTTP | flat | google | tracked | Retryable | Message | Resolution |\n")
	bw.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, code := range c.snap.Load().sorted {
		retry := "no"
		if code.Retryable {
			retry = "yes"
		}
		cells := []string{
			"`" + code.Name + "`", strconv.Itoa(code.Status), "`" + code.Flat + "`",
			"`" + mdCode.Replace(code.Google) + "`", "`" + mdCode.Replace(code.Tracked) + "`", retry,
			mdText.Replace(code.Message), mdText.Replace(code.Resolution),
		}
		bw.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return bw.Flush()
}

var (
	// mdCode escapes a code span in a table cell: the pipe, which splits
	// cells even there, and line breaks, which end the row.
	mdCode = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ")
	// mdText escapes text in a table cell as mdCode does, and '<' too, so
	// that "Basic <credentials>" is not taken for an HTML tag.
	mdText = strings.NewReplacer("|", `\|`, "<", `\<`, "\r\n", " ", "\n", " ", "\r", " ")
)

// jsonCode is the JSON form of a Code.
type jsonCode struct {
	Name       string   `json:"name"`
	Anchor     string   `json:"anchor"`
	Status     int      `json:"status"`
	Flat       string   `json:"flat"`
	Google     string   `json:"google"`
	Tracked    string   `json:"tracked"`
	Title      string   `json:"title,omitempty"`
	Retryable  bool     `json:"retryable"`
	Message    string   `json:"message"`
	Resolution string   `json:"resolution,omitempty"`
	Metadata   []string `json:"metadata,omitempty"`
}

func toJSON(c *Code) jsonCode {
	return jsonCode{
		Name: c.Name, Anchor: c.Anchor(), Status: c.Status, Flat: c.Flat, Google: c.Google,
		Tracked: c.Tracked, Title: c.Title, Retryable: c.Retryable, Message: c.Message,
		Resolution: c.Resolution, Metadata: c.Metadata,
	}
}

func (j jsonCode) code() Code {
	return Code{
		Name: j.Name, Status: j.Status, Flat: j.Flat, Google: j.Google, Tracked: j.Tracked,
		Title: j.Title, Retryable: j.Retryable, Message: j.Message, Resolution: j.Resolution,
		Metadata: j.Metadata,
	}
}

// MarshalJSON renders the catalog as {"prefix":"BLUM","codes":[...]}, codes
// ordered as by Codes. Each code has the members name, anchor, status,
// flat, google, tracked, retryable and message, and title, resolution and
// metadata (its documented keys) when set.
func (c *Catalog) MarshalJSON() ([]byte, error) {
	s := c.snap.Load()
	out := struct {
		Prefix string     `json:"prefix"`
		Codes  []jsonCode `json:"codes"`
	}{Prefix: c.prefix, Codes: make([]jsonCode, 0, len(s.sorted))}
	for _, p := range s.sorted {
		out.Codes = append(out.Codes, toJSON(p))
	}
	return marshal(out)
}

// MarshalJSON renders one code as an element of the catalog's "codes".
func (c Code) MarshalJSON() ([]byte, error) { return marshal(toJSON(&c)) }

// marshal is json.Marshal without HTML escaping, so that a resolution such
// as "Basic <credentials>" reads as written.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
