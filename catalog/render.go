package catalog

import (
	"bufio"
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
			"`" + code.Google + "`", "`" + code.Tracked + "`", retry,
			mdCell(code.Message), mdCell(code.Resolution),
		}
		bw.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return bw.Flush()
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return s
}

// jsonCode is the JSON form of a Code.
type jsonCode struct {
	Name       string `json:"name"`
	Status     int    `json:"status"`
	Flat       string `json:"flat"`
	Google     string `json:"google"`
	Tracked    string `json:"tracked"`
	Title      string `json:"title,omitempty"`
	Retryable  bool   `json:"retryable"`
	Message    string `json:"message"`
	Resolution string `json:"resolution,omitempty"`
}

// MarshalJSON renders the catalog as {"prefix":"BLUM","codes":[...]}, codes
// ordered as by Codes.
func (c *Catalog) MarshalJSON() ([]byte, error) {
	s := c.snap.Load()
	out := struct {
		Prefix string     `json:"prefix"`
		Codes  []jsonCode `json:"codes"`
	}{Prefix: c.prefix, Codes: make([]jsonCode, 0, len(s.sorted))}
	for _, p := range s.sorted {
		out.Codes = append(out.Codes, jsonCode(*p))
	}
	return json.Marshal(out)
}
