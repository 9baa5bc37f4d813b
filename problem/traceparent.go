package problem

import "net/http"

// HeaderTraceparent is the W3C Trace Context request header whose trace id
// the renderer logs as trace_id.
const HeaderTraceparent = "Traceparent"

// traceID returns the trace id of h's traceparent header, or "" when there
// is none or it is not valid.
func traceID(h http.Header) string {
	v := h[HeaderTraceparent]
	if len(v) != 1 { // several traceparent headers: none is trusted
		return ""
	}
	return parseTraceparent(v[0])
}

// parseTraceparent returns the trace id of a W3C traceparent value
// (https://www.w3.org/TR/trace-context/#traceparent-header):
// version "-" trace-id "-" parent-id "-" flags, all lower-case hex, of 2, 32,
// 16 and 2 digits. Version ff is invalid, and so are an all-zero trace id or
// parent id. Version 00 is exactly 55 characters; a later version may be
// followed by "-" and more fields, which are ignored. It returns "" for an
// invalid value; the id returned is a substring of v.
func parseTraceparent(v string) string {
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return ""
	}
	version, trace, parent, flags := v[0:2], v[3:35], v[36:52], v[53:55]
	if !lowerHex(version) || version == "ff" || !lowerHex(trace) || !lowerHex(parent) || !lowerHex(flags) {
		return ""
	}
	if allZero(trace) || allZero(parent) {
		return ""
	}
	if len(v) > 55 && (version == "00" || v[55] != '-') {
		return ""
	}
	return trace
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
