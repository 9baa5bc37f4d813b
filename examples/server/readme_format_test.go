package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// formatSample uses each part of the README example format.
const formatSample = "Intro.\n\n```sh\ncurl -i -u k:s -H 'Content-Type: application/json' -d '{\"q\":1}' http://h/v1/orders\n```\n\n" +
	"```\nHTTP/1.1 400 Bad Request\nContent-Type: application/json; charset=utf-8\n\n{\n  \"code\": \"X\"\n}\n```\n\n" +
	"<!-- readme-check: quickstart -->\n```\n$ curl -i http://h/a   # -maintenance\nHTTP/1.1 404 Not Found\nX-A: 1\n\n{}\n" +
	"$ curl -I http://h/b\nHTTP/1.1 200 OK\n...\n```\n\n" +
	"```json\n{\"level\": \"INFO\", \"msg\": \"client error\"}\n```\n\n```go\nfmt.Println(\"$ curl -i not an example\")\n```\n"

func TestReadmeTranscriptsFormat(t *testing.T) {
	transcripts, err := readmeTranscripts(formatSample)
	require.NoError(t, err)
	require.Len(t, transcripts, 2, "transcripts")

	order := transcripts[0]
	assert.Equal(t, 8, order.line, "line of the response block")
	require.Len(t, order.steps, 1)
	assert.Equal(t, curlCmd{method: "POST", url: "http://h/v1/orders", user: "k:s",
		header: [][2]string{{"Content-Type", "application/json"}}, body: `{"q":1}`, flags: []string{}}, order.steps[0].curl, "curl of a ```sh block")
	assert.Equal(t, respExample{status: "400 Bad Request", header: [][2]string{{"Content-Type", "application/json; charset=utf-8"}},
		body: "{\n  \"code\": \"X\"\n}"}, order.steps[0].resp, "response block")

	quick := transcripts[1]
	assert.Equal(t, "quickstart", quick.target, "target of a readme-check comment")
	require.Len(t, quick.steps, 2, "steps of a transcript block")
	assert.Equal(t, []string{"-maintenance"}, quick.steps[0].curl.flags, "flags of the shell comment")
	assert.Equal(t, respExample{status: "404 Not Found", header: [][2]string{{"X-A", "1"}}, body: "{}"}, quick.steps[0].resp, "first response")
	assert.Equal(t, "HEAD", quick.steps[1].curl.method, "curl -I")
	assert.True(t, quick.steps[1].resp.elided, "a ... line elides")
	assert.JSONEq(t, `{"level":"INFO","msg":"client error"}`, quick.steps[1].resp.logJSON, "log record of the last request")
}

func TestReadmeTranscriptsErrors(t *testing.T) {
	tests := []struct{ name, md, want string }{
		{"response without a request", "```\nHTTP/1.1 200 OK\n```\n", "no curl command above it"},
		{"unknown curl option", "```\n$ curl --compressed http://h/\nHTTP/1.1 200 OK\n```\n", "--compressed"},
		{"other command", "```\n$ wget http://h/\n```\n", "only curl"},
		{"no response", "```\n$ curl -i http://h/\n```\n", "no response"},
		{"bad header line", "```\n$ curl -i http://h/\nHTTP/1.1 200 OK\nnot a header\n```\n", "Name: value"},
		{"unterminated quote", "```sh\ncurl -d '{ http://h/\n```\n", "unterminated"},
		{"elided body", "```\n$ curl -i http://h/\nHTTP/1.1 200 OK\n\n{\"a\":...\n```\n", "cannot be elided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readmeTranscripts(tt.md)
			assert.ErrorContains(t, err, tt.want, "readmeTranscripts(%q)", tt.md)
		})
	}
}

func TestEnvelopeOf(t *testing.T) {
	tests := []struct {
		resp respExample
		want string
	}{
		{respExample{body: `{"code":"BLUM-404-001","message":"x"}`}, "flat"},
		{respExample{body: `{"error":{"code":404,"status":"NOT_FOUND"}}`}, "google"},
		{respExample{body: `{"error":{"code":"NOT_FOUND"}}`}, "tracked"},
		{respExample{header: [][2]string{{"content-type", "application/problem+json"}}, body: `{}`}, "problem"},
		{respExample{body: `{"key":"demo-key"}`}, ""},
		{respExample{body: "not json"}, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, envelopeOf(tt.resp), "envelopeOf(%+v)", tt.resp)
	}
}

func TestNormalizeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"e6da8b9a-1c8e-4d9c-a324-2866555cf060", "<request-id>"},
		{"Reference: exc_4een6aw1b4n2w8s36evda2e4h8.", "Reference: <exc-id>."},
		{"2026-11-24T19:13:08.558Z", "<timestamp>"},
		{"2026-11-24T19:13:07.9096124Z", "<timestamp>"},
		{"exc_short", "exc_short"},
		{"Account not found.", "Account not found."},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, normalizeText(tt.in), "normalizeText(%q)", tt.in)
	}
}
