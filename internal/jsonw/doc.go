// Package jsonw writes JSON without reflection, for the envelopes.
//
// # The model
//
// Each function appends one JSON token (a string, a key, a number, a
// boolean, a timestamp) to a byte slice and returns the extended slice, as
// strconv's Append functions do, so a body is built in one buffer with no
// intermediate values. Strings are escaped so that the output is valid JSON
// and JavaScript whatever the input: invalid UTF-8 becomes U+FFFD. Get and
// Put pool the buffers the renderer writes bodies through.
package jsonw
