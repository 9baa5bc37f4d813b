package problem_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

// brokenBody is a request a client breaks in transit, sent over a raw
// connection: head and body are written, then the connection is
// half-closed when halfClose is set, or left open otherwise.
type brokenBody struct {
	name       string
	head, body string
	halfClose  bool
	wantStatus int
	wantCode   string
}

var brokenBodies = []brokenBody{
	{
		name:       "malformed chunked encoding",
		head:       "Transfer-Encoding: chunked\r\n",
		body:       "zz\r\n{}\r\n0\r\n\r\n",
		wantStatus: http.StatusBadRequest, wantCode: catalog.InvalidArgument,
	},
	{
		name:       "chunk data without its CRLF",
		head:       "Transfer-Encoding: chunked\r\n",
		body:       "2\r\n{}XX0\r\n\r\n",
		wantStatus: http.StatusBadRequest, wantCode: catalog.InvalidArgument,
	},
	{
		name:       "truncated, then half-closed",
		head:       "Content-Length: 40\r\n",
		body:       `{"symbol":`,
		halfClose:  true,
		wantStatus: http.StatusBadRequest, wantCode: catalog.InvalidArgument,
	},
	{
		name:       "truncated chunk, then half-closed",
		head:       "Transfer-Encoding: chunked\r\n",
		body:       "20\r\n{\"symbol\":",
		halfClose:  true,
		wantStatus: http.StatusBadRequest, wantCode: catalog.InvalidArgument,
	},
	{
		name:       "slower than the read timeout",
		head:       "Content-Length: 40\r\n",
		body:       `{"symbol":`,
		wantStatus: http.StatusRequestTimeout, wantCode: catalog.RequestTimeout,
	},
}

// readTimeout is the test servers' http.Server.ReadTimeout. The timeout
// case waits for it once; the others finish long before it.
const readTimeout = 300 * time.Millisecond

// bodyHandlers read the body in the two ways a handler does: through the
// Decoder, and by hand, returning the read error as it is.
func bodyHandlers(rd *problem.Renderer) map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"DecodeJSON": func(w http.ResponseWriter, r *http.Request) {
			var v map[string]any
			if err := problem.DecodeJSON(w, r, &v); err != nil {
				rd.Write(w, r, err)
			}
		},
		"io.ReadAll": func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				rd.Write(w, r, fmt.Errorf("read order: %w", err))
			}
		},
	}
}

func TestBrokenBodiesOverHTTP(t *testing.T) {
	for hname := range bodyHandlers(nil) {
		for _, tt := range brokenBodies {
			t.Run(hname+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				rd, logs := newRenderer(t, problem.Config{}, slog.LevelDebug)
				srv := httptest.NewUnstartedServer(bodyHandlers(rd)[hname])
				srv.Config.ReadTimeout = readTimeout
				srv.Start()
				defer srv.Close()

				resp := sendRaw(t, srv.Listener.Addr().String(), tt)
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err, "reading the response")
				assert.Equal(t, tt.wantStatus, resp.StatusCode, "status for %s; body %s", tt.name, body)
				m := decodeObject(t, body)
				assert.Equal(t, tt.wantCode, m["code"], "code")
				assert.NotContains(t, m, "exc_id", "a client's fault is not sanitized")

				srv.Close() // the record is written before the handler returns
				rec := logs.only(t)
				assert.Equal(t, "INFO", rec["level"], "log level")
				assert.Equal(t, "client error", rec["msg"], "log message")
				assert.EqualValues(t, tt.wantStatus, rec["status"], "logged status")
			})
		}
	}
}

// sendRaw writes tt as a POST over a new connection and reads the response.
func sendRaw(t *testing.T, addr string, tt brokenBody) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = io.WriteString(conn, "POST /orders HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"+
		tt.head+"\r\n"+tt.body)
	require.NoError(t, err, "writing the request")
	if tt.halfClose {
		require.NoError(t, conn.(*net.TCPConn).CloseWrite(), "CloseWrite")
	}
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "reading the response to %s", tt.name)
	return resp
}

func TestLineTooLongIsTheClients(t *testing.T) {
	// A chunk-size line over net/http's limit: a client error wherever
	// the error is returned from.
	rd, _ := newRenderer(t, problem.Config{}, slog.LevelInfo)
	rec := write(rd, "/orders", fmt.Errorf("read body: %w", http.ErrLineTooLong))
	assert.Equal(t, http.StatusBadRequest, rec.Code, "Write(ErrLineTooLong) status")
}

func TestBodyErrorsOfOtherOrigin(t *testing.T) {
	// A timeout or an unexpected EOF that a handler returns while the
	// client's connection is fine came from elsewhere (a database): it is
	// the service's fault.
	rd, logs := newRenderer(t, problem.Config{}, slog.LevelDebug)
	for _, err := range []error{
		fmt.Errorf("query: %w", io.ErrUnexpectedEOF),
		&net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}},
	} {
		rec := write(rd, "/orders", err)
		assert.Equal(t, http.StatusInternalServerError, rec.Code, "Write(%v) status", err)
	}
	// Past a server-side deadline, a backend's timeout is not the
	// client's either.
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	req := httptest.NewRequest(http.MethodGet, "/orders", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	rd.Write(rec, req, &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}})
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "Write(timeout) past the request's deadline: status")
	for _, rec := range logs.records(t) {
		assert.Equal(t, "ERROR", rec["level"], "level of %v", rec["error"])
	}
}

// A body that misses the read timeout is the catalog's REQUEST_TIMEOUT, as
// a service registered it or as built in.
func TestRequestTimeoutCode(t *testing.T) {
	err := problem.New(catalog.RequestTimeout, "")
	rd, _ := newRenderer(t, problem.Config{Envelope: problem.EnvelopeFlat, Prefix: "BLUM"}, slog.LevelInfo)
	rec := write(rd, "/x", err)
	assert.Equal(t, http.StatusRequestTimeout, rec.Code, "status")
	assert.JSONEq(t, `{"code":"BLUM-408-001","message":"The request body did not arrive in time."}`, rec.Body.String(), "body")
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var _ net.Error = timeoutError{}
