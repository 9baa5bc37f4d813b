package respwriter_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/internal/respwriter"
)

// plainWriter is a ResponseWriter with none of the optional interfaces. It
// records the statuses it is sent, 1xx included, as a server does.
type plainWriter struct {
	header   http.Header
	codes    []int
	body     bytes.Buffer
	writeErr error // returned by Write when set
}

func newPlain() *plainWriter { return &plainWriter{header: http.Header{}} }

func (p *plainWriter) Header() http.Header  { return p.header }
func (p *plainWriter) WriteHeader(code int) { p.codes = append(p.codes, code) }
func (p *plainWriter) Write(b []byte) (int, error) {
	if p.writeErr != nil {
		return 0, p.writeErr
	}
	return p.body.Write(b)
}

// fullWriter adds http.Flusher, http.Hijacker and io.ReaderFrom.
type fullWriter struct {
	plainWriter
	readFroms int
	flushes   int
	hijacks   int
}

func newFull() *fullWriter { return &fullWriter{plainWriter: plainWriter{header: http.Header{}}} }

func (f *fullWriter) ReadFrom(r io.Reader) (int64, error) {
	f.readFroms++
	return f.body.ReadFrom(r)
}
func (f *fullWriter) Flush() { f.flushes++ }
func (f *fullWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	f.hijacks++
	c1, c2 := net.Pipe()
	_ = c2.Close()
	return c1, bufio.NewReadWriter(bufio.NewReader(c1), bufio.NewWriter(c1)), nil
}

func newWriter(rw http.ResponseWriter) *respwriter.Writer {
	w := new(respwriter.Writer)
	w.Reset(rw)
	return w
}

func TestWriterCommitted(t *testing.T) {
	tests := []struct {
		name          string
		do            func(w *respwriter.Writer)
		wantCommitted bool
		wantStatus    int
		wantWritten   int64
		wantCodes     []int // the statuses forwarded
	}{
		{"nothing", func(w *respwriter.Writer) {}, false, 0, 0, nil},
		{"100 Continue", func(w *respwriter.Writer) { w.WriteHeader(http.StatusContinue) }, false, 0, 0, []int{100}},
		{"103 Early Hints", func(w *respwriter.Writer) { w.WriteHeader(http.StatusEarlyHints) }, false, 0, 0, []int{103}},
		{"101 Switching Protocols", func(w *respwriter.Writer) { w.WriteHeader(http.StatusSwitchingProtocols) }, true, 101, 0, []int{101}},
		{"204", func(w *respwriter.Writer) { w.WriteHeader(http.StatusNoContent) }, true, 204, 0, []int{204}},
		{"103 then 200", func(w *respwriter.Writer) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusOK)
		}, true, 200, 0, []int{103, 200}},
		{"first final status wins", func(w *respwriter.Writer) {
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusInternalServerError)
		}, true, 201, 0, []int{201, 500}},
		{"Write", func(w *respwriter.Writer) { _, _ = w.Write([]byte("abc")) }, true, 200, 3, nil},
		{"WriteHeader then Writes", func(w *respwriter.Writer) {
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte("ab"))
			_, _ = w.Write([]byte("cde"))
		}, true, 202, 5, []int{202}},
		{"empty Write", func(w *respwriter.Writer) { _, _ = w.Write(nil) }, true, 200, 0, nil},
		{"ReadFrom", func(w *respwriter.Writer) { _, _ = w.ReadFrom(strings.NewReader("hello")) }, true, 200, 5, nil},
		{"Flush", func(w *respwriter.Writer) { w.Flush() }, true, 200, 0, nil},
		{"FlushError", func(w *respwriter.Writer) { _ = w.FlushError() }, true, 200, 0, nil},
		{"Hijack", func(w *respwriter.Writer) {
			c, _, err := w.Hijack()
			if err == nil {
				_ = c.Close()
			}
		}, true, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			under := newFull()
			w := newWriter(under)
			tt.do(w)
			assert.Equal(t, tt.wantCommitted, w.Committed(), "Committed() = %v, want %v", w.Committed(), tt.wantCommitted)
			assert.Equal(t, tt.wantStatus, w.Status(), "Status() = %d, want %d", w.Status(), tt.wantStatus)
			assert.Equal(t, tt.wantWritten, w.Written(), "Written() = %d, want %d", w.Written(), tt.wantWritten)
			assert.Equal(t, tt.wantCodes, under.codes, "statuses forwarded")
			assert.Equal(t, tt.wantWritten, int64(under.body.Len()), "bytes forwarded")
			assert.NoError(t, w.Err())
		})
	}
}

func TestWriterReset(t *testing.T) {
	first, second := newFull(), newPlain()
	w := newWriter(first)
	_, _ = w.Write([]byte("abc"))
	require.True(t, w.Committed())

	w.Reset(second)
	assert.False(t, w.Committed(), "Committed() after Reset")
	assert.Zero(t, w.Status(), "Status() after Reset")
	assert.Zero(t, w.Written(), "Written() after Reset")
	assert.NoError(t, w.Err(), "Err() after Reset")
	assert.Same(t, second, w.Unwrap().(*plainWriter), "Unwrap() after Reset")
	w.Header().Set("X-A", "1")
	assert.Equal(t, "1", second.header.Get("X-A"), "Header() is the wrapped writer's")
	assert.Empty(t, first.header.Get("X-A"))
}

func TestWriterReadFrom(t *testing.T) {
	t.Run("underlying ReaderFrom", func(t *testing.T) {
		under := newFull()
		w := newWriter(under)
		n, err := w.ReadFrom(strings.NewReader("payload"))
		require.NoError(t, err)
		assert.Equal(t, int64(7), n)
		assert.Equal(t, 1, under.readFroms, "ReadFrom must use the wrapped writer's ReadFrom")
		assert.Equal(t, "payload", under.body.String())
		assert.Equal(t, int64(7), w.Written())
	})
	t.Run("io.Copy uses it too", func(t *testing.T) {
		under := newFull()
		w := newWriter(under)
		// Hide strings.Reader.WriteTo, which io.Copy would prefer.
		_, err := io.Copy(w, struct{ io.Reader }{strings.NewReader("payload")})
		require.NoError(t, err)
		assert.Equal(t, 1, under.readFroms, "io.Copy(w, r) must reach the wrapped ReadFrom")
	})
	t.Run("no ReaderFrom", func(t *testing.T) {
		under := newPlain()
		w := newWriter(under)
		n, err := w.ReadFrom(strings.NewReader(strings.Repeat("x", 100_000)))
		require.NoError(t, err)
		assert.Equal(t, int64(100_000), n)
		assert.Equal(t, 100_000, under.body.Len())
		assert.Equal(t, int64(100_000), w.Written())
		assert.Equal(t, http.StatusOK, w.Status())
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("disk on fire")
		w := newWriter(newPlain())
		n, err := w.ReadFrom(io.MultiReader(strings.NewReader("ab"), &errReader{boom}))
		assert.ErrorIs(t, err, boom)
		assert.Equal(t, int64(2), n)
		assert.Equal(t, int64(2), w.Written())
		assert.ErrorIs(t, w.Err(), boom)
	})
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

func TestWriterErr(t *testing.T) {
	first, second := errors.New("broken pipe"), errors.New("second")
	under := newPlain()
	w := newWriter(under)
	under.writeErr = first
	n, err := w.Write([]byte("abc"))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, first)
	under.writeErr = second
	_, _ = w.Write([]byte("abc"))
	assert.ErrorIs(t, w.Err(), first, "Err() = %v, want the first error", w.Err())
	assert.True(t, w.Committed(), "a failed Write still commits")
}

func TestWriterFlush(t *testing.T) {
	t.Run("Flusher", func(t *testing.T) {
		under := newFull()
		w := newWriter(under)
		require.NoError(t, w.FlushError())
		w.Flush()
		assert.Equal(t, 2, under.flushes)
	})
	t.Run("no Flusher", func(t *testing.T) {
		w := newWriter(newPlain())
		err := w.FlushError()
		assert.ErrorIs(t, err, http.ErrNotSupported, "FlushError() = %v, want http.ErrNotSupported", err)
		assert.NotPanics(t, w.Flush)
		assert.False(t, w.Committed(), "an unsupported flush sends nothing, so Committed() = true, want false")
		_, _ = w.Write([]byte("x"))
		w.Flush()
		assert.Equal(t, http.StatusOK, w.Status())
	})
	t.Run("recorder", func(t *testing.T) {
		rec := httptest.NewRecorder()
		w := newWriter(rec)
		_, _ = w.Write([]byte("x"))
		require.NoError(t, w.FlushError())
		assert.True(t, rec.Flushed)
	})
	t.Run("ResponseController", func(t *testing.T) {
		under := newFull()
		w := newWriter(under)
		require.NoError(t, http.NewResponseController(w).Flush())
		assert.Equal(t, 1, under.flushes)
		err := http.NewResponseController(newWriter(newPlain())).Flush()
		assert.ErrorIs(t, err, http.ErrNotSupported)
	})
	t.Run("through an unwrapping writer", func(t *testing.T) {
		// A Flusher-less wrapper that unwraps to a Flusher: FlushError
		// finds it through ResponseController.
		under := newFull()
		w := newWriter(&unwrapper{plainWriter: plainWriter{header: http.Header{}}, rw: under})
		require.NoError(t, w.FlushError())
		assert.Equal(t, 1, under.flushes)
	})
}

// unwrapper is a writer with only Unwrap on top of ResponseWriter.
type unwrapper struct {
	plainWriter
	rw http.ResponseWriter
}

func (u *unwrapper) Unwrap() http.ResponseWriter { return u.rw }

func TestWriterHijack(t *testing.T) {
	t.Run("Hijacker", func(t *testing.T) {
		under := newFull()
		w := newWriter(under)
		c, brw, err := w.Hijack()
		require.NoError(t, err)
		require.NotNil(t, brw)
		_ = c.Close()
		assert.Equal(t, 1, under.hijacks)
		assert.True(t, w.Committed(), "Committed() after Hijack")
	})
	t.Run("no Hijacker", func(t *testing.T) {
		w := newWriter(newPlain())
		_, _, err := w.Hijack()
		assert.ErrorIs(t, err, http.ErrNotSupported)
		assert.False(t, w.Committed(), "a failed Hijack does not commit")
	})
}

func TestWriterUnwrap(t *testing.T) {
	under := newPlain()
	w := newWriter(under)
	assert.Same(t, under, w.Unwrap().(*plainWriter))
}
