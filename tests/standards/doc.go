// Package standards holds faultline's tests against independent validators
// and clients: the JSON Schema of RFC 9457 and Google's gax-go apierror.
package standards
