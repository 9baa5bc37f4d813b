package main

import (
	"os"
	"path/filepath"
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
			assert.Equal(t, string(want), string(got), "docs/%s differs from what the code produces; run `make docs` and commit the result", name)
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
