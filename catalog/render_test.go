package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
)

const markdownHeader = "| Name | HTTP | flat | google | tracked | Retryable | Message | Resolution |"

func TestWriteMarkdown(t *testing.T) {
	c := catalog.MustNew("BLUM")
	require.NoError(t, c.Register(catalog.Code{
		Name:       "PIPE_DREAM",
		Status:     418,
		Message:    "Either a|b\nor c",
		Resolution: "Pick one | any <value>.",
	}))
	var buf bytes.Buffer
	require.NoError(t, c.WriteMarkdown(&buf), "WriteMarkdown() = error, want nil")
	out := buf.String()
	require.True(t, strings.HasSuffix(out, "\n"), "WriteMarkdown() output does not end in a newline")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")

	require.Len(t, lines, c.Len()+2, "WriteMarkdown() wrote %d lines, want a header, a separator and %d rows", len(lines), c.Len())
	assert.Equal(t, markdownHeader, lines[0], "WriteMarkdown() header = %q, want %q", lines[0], markdownHeader)
	assert.Equal(t, "|---|---|---|---|---|---|---|---|", lines[1], "WriteMarkdown() separator = %q", lines[1])

	codes := c.Codes()
	for i, line := range lines[2:] {
		code := codes[i]
		t.Run(code.Name, func(t *testing.T) {
			assert.True(t, strings.HasPrefix(line, "| `"+code.Name+"` | "), "row %d = %q, want it to start with the name %s", i, line, code.Name)
			assert.Contains(t, line, "`"+code.Flat+"`", "row for %s = %q, want its flat code", code.Name, line)
			assert.Contains(t, line, "`"+code.Tracked+"`", "row for %s = %q, want its tracked code", code.Name, line)
			assert.Equal(t, 9, strings.Count(line, " | ")+2, "row for %s = %q, want 8 cells", code.Name, line)
		})
	}

	t.Run("escapes message and resolution", func(t *testing.T) {
		var row string
		for _, line := range lines {
			if strings.Contains(line, "`PIPE_DREAM`") {
				row = line
			}
		}
		require.NotEmpty(t, row, "WriteMarkdown() has no row for PIPE_DREAM")
		want := "| `PIPE_DREAM` | 418 | `BLUM-418-001` | `PIPE_DREAM` | `PIPE_DREAM` | no | Either a\\|b or c | Pick one \\| any \\<value>. |"
		assert.Equal(t, want, row, "WriteMarkdown() row = %q, want %q", row, want)
	})

	t.Run("angle brackets are no HTML", func(t *testing.T) {
		want := "| `MISSING_AUTHORIZATION` | 401 | `BLUM-401-001` | `MISSING_AUTHORIZATION` | `UNAUTHORIZED` | no | Missing authorization. | Include an Authorization: Basic \\<credentials> header. |"
		assert.Contains(t, lines, want, "WriteMarkdown() lacks the row %q", want)
	})

	t.Run("retryable column", func(t *testing.T) {
		assert.Contains(t, out, "| `RESOURCE_EXHAUSTED` | 429 | `BLUM-429-001` | `RESOURCE_EXHAUSTED` | `RATE_LIMIT_EXCEEDED` | yes |")
		assert.Contains(t, out, "| `NOT_FOUND` | 404 | `BLUM-404-001` | `NOT_FOUND` | `NOT_FOUND` | no |")
	})
}

func TestWriteMarkdownEscapesEnvelopeNames(t *testing.T) {
	c := catalog.MustNew("BLUM")
	require.NoError(t, c.Register(catalog.Code{Name: "ODD_NAMES", Status: 418, Google: "A|B", Tracked: "C\nD"}))
	var buf bytes.Buffer
	require.NoError(t, c.WriteMarkdown(&buf))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, c.Len()+2, "WriteMarkdown() wrote %d lines, want %d: a newline in a name split a row", len(lines), c.Len()+2)
	want := "| `ODD_NAMES` | 418 | `BLUM-418-001` | `A\\|B` | `C D` | no | I'm a teapot |  |"
	assert.Contains(t, lines, want, "WriteMarkdown() lacks the row %q", want)
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteMarkdownWriterError(t *testing.T) {
	errBoom := errors.New("disk full")
	err := catalog.MustNew("BLUM").WriteMarkdown(failingWriter{errBoom})
	assert.ErrorIs(t, err, errBoom, "WriteMarkdown(failing writer) = %v, want %v", err, errBoom)
}

func TestMarshalJSON(t *testing.T) {
	c := catalog.MustNew("BLUM")
	require.NoError(t, c.Register(catalog.Code{Name: "DUPLICATE_ORDER", Status: 409, Title: "Duplicate order",
		Message: `An order with this "client_order_id" exists.`}))

	raw, err := json.Marshal(c)
	require.NoError(t, err, "json.Marshal(catalog) = _, %v, want nil", err)
	require.True(t, json.Valid(raw), "json.Marshal(catalog) = %s, want valid JSON", raw)
	direct, err := c.MarshalJSON()
	require.NoError(t, err)
	assert.JSONEq(t, string(raw), string(direct), "MarshalJSON() and json.Marshal differ")

	type jsonCode struct {
		Name       string   `json:"name"`
		Anchor     string   `json:"anchor"`
		Status     int      `json:"status"`
		Flat       string   `json:"flat"`
		Google     string   `json:"google"`
		Tracked    string   `json:"tracked"`
		Title      string   `json:"title"`
		Retryable  bool     `json:"retryable"`
		Message    string   `json:"message"`
		Resolution string   `json:"resolution"`
		Metadata   []string `json:"metadata"`
	}
	var got struct {
		Prefix string     `json:"prefix"`
		Codes  []jsonCode `json:"codes"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&got), "decoding %s", raw)

	assert.Equal(t, "BLUM", got.Prefix, "MarshalJSON() prefix = %q, want %q", got.Prefix, "BLUM")
	codes := c.Codes()
	require.Len(t, got.Codes, len(codes), "MarshalJSON() has %d codes, want %d", len(got.Codes), len(codes))
	for i, want := range codes {
		w := jsonCode{Name: want.Name, Anchor: want.Anchor(), Status: want.Status, Flat: want.Flat,
			Google: want.Google, Tracked: want.Tracked, Title: want.Title, Retryable: want.Retryable,
			Message: want.Message, Resolution: want.Resolution, Metadata: want.Metadata}
		assert.Equal(t, w, got.Codes[i], "MarshalJSON() codes[%d] = %+v, want %+v", i, got.Codes[i], w)
	}

	var rawCodes struct {
		Codes []map[string]json.RawMessage `json:"codes"`
	}
	require.NoError(t, json.Unmarshal(raw, &rawCodes))
	for _, m := range rawCodes.Codes {
		for _, key := range []string{"name", "anchor", "status", "flat", "google", "tracked", "retryable", "message"} {
			assert.Contains(t, m, key, "MarshalJSON() code %s lacks %q", m["name"], key)
		}
	}
}
