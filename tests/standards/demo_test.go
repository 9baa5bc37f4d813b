package standards

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// demoBinary is the demo server built once by TestMain.
var demoBinary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "faultline-standards-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "standards:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	demoBinary = filepath.Join(dir, "server")
	// Built in the repository's own module, with its go.mod, as a user
	// would build it.
	build := exec.Command("go", "build", "-o", demoBinary, "./examples/server")
	build.Dir = "../.."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "standards: building the demo:", err)
		return 1
	}
	return m.Run()
}

// demo is a running demo server.
type demo struct {
	base   string // http://127.0.0.1:port
	addr   string
	client *http.Client
}

// startDemo runs the demo binary on a free port with args and the
// FAULTLINE_* variables in env (the caller's own are dropped), and stops
// it when the test ends.
func startDemo(t *testing.T, env []string, args ...string) *demo {
	t.Helper()
	cmd := exec.Command(demoBinary, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FAULTLINE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start(), "starting %s", demoBinary)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})

	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		sent := false
		for sc.Scan() { // keep draining after the address, so the demo never blocks on its log
			var rec struct{ Msg, Addr string }
			if !sent && json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
				sent = true
			}
		}
		if !sent {
			close(addr)
		}
	}()
	select {
	case a, ok := <-addr:
		require.True(t, ok, "the demo exited without a listening record")
		return &demo{base: "http://" + a, addr: a, client: &http.Client{Timeout: 10 * time.Second}}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo logged no listening record within 30s")
		return nil
	}
}

// request is one request to the demo.
type request struct {
	method, path, body string
	header             map[string]string
	auth               bool // Basic demo-key:demo-secret
}

// do sends req and returns the response with its body read.
func (d *demo) do(t *testing.T, req request) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	r, err := http.NewRequest(req.method, d.base+req.path, body)
	require.NoError(t, err, "NewRequest(%s %s)", req.method, req.path)
	if req.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.auth {
		r.SetBasicAuth("demo-key", "demo-secret")
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	resp, err := d.client.Do(r)
	require.NoError(t, err, "%s %s", req.method, req.path)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "%s %s body", req.method, req.path)
	return resp, b
}

// raw sends target byte for byte as the request line's target (no client
// normalizes it), with the demo's Basic credentials, and returns the
// response with its body read.
func (d *demo) raw(t *testing.T, target string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", d.addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic ZGVtby1rZXk6ZGVtby1zZWNyZXQ=\r\nConnection: close\r\n\r\n", target, d.addr)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "GET %q", target)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "GET %q body", target)
	return resp, b
}
