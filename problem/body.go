package problem

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"

	"github.com/faultline-go/faultline/catalog"
)

// Client-facing messages of the body faults.
const (
	msgBodyTimeout   = "The request body did not arrive within the server's read timeout."
	msgBodyTruncated = "The request body ended before it was complete."
	msgBodyChunked   = "The request body is not valid chunked transfer encoding."
)

// chunkedErrors are the texts of the errors net/http's chunked reader and
// trailer parser return for a malformed chunked body. net/http exports none
// of them but http.ErrLineTooLong, so they are matched by text, on the
// innermost error only: an error of the service's own that merely quotes one
// is not mistaken for it.
var chunkedErrors = [...]string{
	"malformed chunked encoding",
	"chunked encoding contains too much non-data",
	"chunked line ends with bare LF",
	"invalid CR in chunked line",
	"empty hex number for chunk length",
	"invalid byte in chunk length",
	"http chunk length too large",
	"http: unexpected EOF reading trailer",
	"http: suspiciously long trailer after chunked body",
}

// errorStringType is the dynamic type of errors.New's errors, which the
// chunked reader's are.
var errorStringType = reflect.TypeOf(errors.New(""))

// readFault maps an error from reading a request body to the client's
// fault it stands for, as an *Error wrapping err, or nil when it is none: a
// chunked-encoding error (400 INVALID_ARGUMENT), a body cut short (400
// INVALID_ARGUMENT) or a read timeout (408 REQUEST_TIMEOUT). Only callers
// that know err came from the body (the Decoder) may use it directly; the
// renderer, which does not, asks bodyFault.
func readFault(err error) *Error {
	switch {
	case isChunkedError(err):
		return Wrap(err, catalog.InvalidArgument, msgBodyChunked)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Wrap(err, catalog.InvalidArgument, msgBodyTruncated)
	case isTimeout(err):
		return Wrap(err, catalog.RequestTimeout, msgBodyTimeout)
	}
	return nil
}

// bodyFault is readFault for an error of unknown origin that a handler
// returned. A chunked-encoding error can only come from a request body. A
// cut-short read or a timeout can come from anywhere (a database
// connection), so they count only when the request's connection has failed
// too: net/http cancels the request's context (context.Canceled) when a read
// from the client connection fails, which is what a truncated body or a
// read timeout does. A context past its deadline (a Timeout middleware) is
// the server running out of time, not the client's fault.
func bodyFault(r *http.Request, err error) *Error {
	if isChunkedError(err) || errors.Is(r.Context().Err(), context.Canceled) {
		return readFault(err)
	}
	return nil
}

// isChunkedError reports whether the innermost error of err's chain is one
// of chunkedErrors or http.ErrLineTooLong.
func isChunkedError(err error) bool {
	if errors.Is(err, http.ErrLineTooLong) {
		return true
	}
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			break
		}
		next := u.Unwrap()
		if next == nil {
			break
		}
		err = next
	}
	if err == nil || reflect.TypeOf(err) != errorStringType {
		return false // not errors.New's type: not net/http's, and its Error is not called
	}
	msg := err.Error()
	for _, s := range chunkedErrors {
		if msg == s {
			return true
		}
	}
	return false
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	ne, ok := asType[net.Error](err)
	return ok && ne.Timeout()
}

// bodyError returns the *Error a Decoder answers a failed body read with:
// 413 for a body over the limit, the client fault readFault names, or nil
// when the read failed for another reason.
func bodyError(err error, limit int64) *Error {
	if _, ok := asType[*http.MaxBytesError](err); ok {
		return tooLarge(limit)
	}
	return readFault(err)
}

// ref returns the catalog's code named name, or nil.
func (rd *Renderer) ref(name string) *catalog.Code { return rd.catalog.Ref(name) }
