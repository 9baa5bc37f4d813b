package respwriter

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
)

// Writer records the status and the number of body bytes written through it.
// The zero value is not usable; call Reset first.
type Writer struct {
	rw       http.ResponseWriter
	status   int
	written  int64
	hijacked bool
	err      error
}

var (
	_ http.ResponseWriter = (*Writer)(nil)
	_ http.Flusher        = (*Writer)(nil)
	_ http.Hijacker       = (*Writer)(nil)
	_ io.ReaderFrom       = (*Writer)(nil)
)

// Reset points w at rw and forgets everything recorded so far.
func (w *Writer) Reset(rw http.ResponseWriter) {
	*w = Writer{rw: rw}
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *Writer) Unwrap() http.ResponseWriter { return w.rw }

// Header returns the wrapped writer's header map.
func (w *Writer) Header() http.Header { return w.rw.Header() }

// WriteHeader records and forwards the status. Informational statuses other
// than 101 do not commit the response.
func (w *Writer) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.rw.WriteHeader(code)
}

// Write commits the response with 200 if no status was written yet.
func (w *Writer) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.rw.Write(b)
	w.written += int64(n)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// ReadFrom copies from r, using the wrapped writer's ReadFrom when it has one
// (so sendfile still applies).
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.rw.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.rw}, r)
	}
	w.written += n
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// Flush commits the response and flushes it if the wrapped writer can.
func (w *Writer) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting failure, as http.ResponseController expects.
// A flush the wrapped writer does not support sends nothing, so it leaves
// the response uncommitted.
func (w *Writer) FlushError() error {
	err := http.NewResponseController(w.rw).Flush()
	if w.status == 0 && !errors.Is(err, http.ErrNotSupported) {
		w.status = http.StatusOK
	}
	return err
}

// Hijack hands the connection over; the response counts as committed.
func (w *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, brw, err
}

// Committed reports whether a status line (or a hijack) has gone out, after
// which nothing may be written in place of the response.
func (w *Writer) Committed() bool { return w.status != 0 || w.hijacked }

// Status returns the status written so far, or 0.
func (w *Writer) Status() int { return w.status }

// Written returns the number of body bytes written.
func (w *Writer) Written() int64 { return w.written }

// Err returns the first error a write to the client returned.
func (w *Writer) Err() error { return w.err }

// writerOnly hides every method but Write, so io.Copy cannot loop back into
// ReadFrom.
type writerOnly struct{ io.Writer }
