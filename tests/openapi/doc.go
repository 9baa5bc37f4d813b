// Package openapi holds the tests that validate the OpenAPI documents of
// github.com/faultline-go/faultline/openapi with kin-openapi, in a module of
// their own so the library's go.mod never requires it.
package openapi
