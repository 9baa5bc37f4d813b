package client_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/faultline-go/faultline"

// imports returns the import paths of the non-test Go files under dir,
// by file, skipping directories skip says to.
func imports(t *testing.T, dir string, skip func(path string) bool) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skip(path) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[path] = append(out[path], p)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// TestClientDependencies: the package uses the standard library and the
// module's catalog package only.
func TestClientDependencies(t *testing.T) {
	files := imports(t, ".", func(path string) bool { return path != "." })
	require.NotEmpty(t, files)
	for file, paths := range files {
		for _, p := range paths {
			std := !strings.Contains(strings.Split(p, "/")[0], ".")
			assert.True(t, std || p == module+"/catalog", "%s imports %s, want only the standard library and catalog", file, p)
		}
	}
}

// TestServerPackagesDoNotImportClient: no package of the module but the
// client itself and its clienttest imports it (tests of the demo may).
func TestServerPackagesDoNotImportClient(t *testing.T) {
	root := ".."
	_, err := os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the module root is not the parent directory")
	files := imports(t, root, func(path string) bool {
		base := filepath.Base(path)
		return path == "." || base == "testdata" || base == "bench" || strings.HasPrefix(base, ".") && path != root
	})
	require.NotEmpty(t, files)
	own := filepath.Join(root, "client") + string(filepath.Separator)
	for file, paths := range files {
		if strings.HasPrefix(file, own) {
			continue // client/clienttest
		}
		assert.NotContains(t, paths, module+"/client", "%s imports the client package", file)
	}
}
