package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docsDir is the repository's docs directory, from this package's.
const docsDir = "../../../docs"

// TestDocsUpToDate is the drift test: the committed reference must be what
// the code produces now.
func TestDocsUpToDate(t *testing.T) {
	files, err := generate()
	require.NoError(t, err, "generate() = _, %v, want nil", err)
	require.ElementsMatch(t, []string{"errors.md", "errors.json"}, keys(files), "generate() files")
	for name, want := range files {
		t.Run(name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(docsDir, name))
			require.NoError(t, err, "docs/%s: %v; run `make docs`", name, err)
			if line, w, g, differ := firstDiff(want, got); differ {
				t.Errorf("docs/%s differs from what the code produces at line %d:\n  committed: %q\n  generated: %q\nrun `make docs` and commit the result", name, line, g, w)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	err := write(dir)
	require.NoError(t, err, "write(%q) = %v, want nil", dir, err)
	files, err := generate()
	require.NoError(t, err)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, "write(%q) did not write %s", dir, name)
		assert.Equal(t, want, got, "write(%q) wrote %s = %d bytes, want the generated %d", dir, name, len(got), len(want))
	}
	assert.Error(t, write(filepath.Join(dir, "missing", "dir")), "write(a missing directory) = nil, want an error")
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// firstDiff returns the first line, counted from 1, where want and got
// differ, and that line of each; differ is false when they are equal.
func firstDiff(want, got []byte) (line int, w, g string, differ bool) {
	if bytes.Equal(want, got) {
		return 0, "", "", false
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; ; i++ {
		if i >= len(wl) || i >= len(gl) || wl[i] != gl[i] {
			return i + 1, at(wl, i), at(gl, i), true
		}
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end of file)"
}

func TestFirstDiff(t *testing.T) {
	tests := []struct {
		want, got string
		line      int
		differ    bool
	}{
		{"a\nb\n", "a\nb\n", 0, false},
		{"a\nb\n", "a\nc\n", 2, true},
		{"a\nb\n", "a\n", 2, true},
		{"a\n", "a\nb\n", 2, true},
		{"", "x", 1, true},
	}
	for _, tt := range tests {
		line, _, _, differ := firstDiff([]byte(tt.want), []byte(tt.got))
		assert.Equal(t, tt.differ, differ, "firstDiff(%q, %q) differ = %v, want %v", tt.want, tt.got, differ, tt.differ)
		assert.Equal(t, tt.line, line, "firstDiff(%q, %q) line = %d, want %d", tt.want, tt.got, line, tt.line)
	}
}
