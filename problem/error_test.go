package problem_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

func TestConstructors(t *testing.T) {
	cause := errors.New("no rows")
	tests := []struct {
		name string
		got  *problem.Error
		want problem.Error
	}{
		{"New", problem.New(catalog.NotFound, "gone"), problem.Error{Code: catalog.NotFound, Message: "gone"}},
		{"Newf", problem.Newf(catalog.NotFound, "order %s of %d", "ord_1", 2), problem.Error{Code: catalog.NotFound, Message: "order ord_1 of 2"}},
		{"Wrap", problem.Wrap(cause, catalog.NotFound, "gone"), problem.Error{Code: catalog.NotFound, Message: "gone", Cause: cause}},
		{"Internal", problem.Internal(cause), problem.Error{Code: catalog.Internal, Cause: cause}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, *tc.got, "%s() = %+v, want %+v", tc.name, *tc.got, tc.want)
		})
	}
}

func TestValidationConstructors(t *testing.T) {
	sym := problem.Violation{Field: "symbol", Reason: catalog.MissingField, Description: "Missing required field: symbol."}
	qty := problem.Violation{Field: "quantity", Reason: catalog.InvalidArgument, Description: "Must be positive."}
	tests := []struct {
		name        string
		got         *problem.Error
		wantCode    string
		wantMessage string
		wantViol    []problem.Violation
	}{
		{"MissingField", problem.MissingField("symbol"), catalog.MissingField, "Missing required field: symbol.",
			[]problem.Violation{sym}},
		{"InvalidFormat", problem.InvalidFormat("date", "Field date must be ISO 8601."), catalog.InvalidFormat,
			"Field date must be ISO 8601.",
			[]problem.Violation{{Field: "date", Reason: catalog.InvalidFormat, Description: "Field date must be ISO 8601."}}},
		{"Invalid", problem.Invalid("quantity", "Must be positive."), catalog.InvalidArgument, "Must be positive.",
			[]problem.Violation{qty}},
		{"Validation single other reason", problem.Validation(problem.Violation{Field: "x", Reason: "TOO_LONG", Description: "Too long."}),
			catalog.InvalidArgument, "Too long.", []problem.Violation{{Field: "x", Reason: "TOO_LONG", Description: "Too long."}}},
		{"Validation single without description", problem.Validation(problem.Violation{Field: "x", Reason: catalog.MissingField}),
			catalog.MissingField, "Invalid field: x.", []problem.Violation{{Field: "x", Reason: catalog.MissingField}}},
		{"Validation several", problem.Validation(sym, qty), catalog.InvalidArgument,
			"Request validation failed for fields: symbol, quantity.", []problem.Violation{sym, qty}},
		{"Validation none", problem.Validation(), catalog.InvalidArgument, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.wantCode, tc.got.Code, "%s Code", tc.name)
			assert.Equal(t, tc.wantMessage, tc.got.Message, "%s Message", tc.name)
			assert.Equal(t, tc.wantViol, tc.got.Violations, "%s Violations", tc.name)
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *problem.Error
		want string
	}{
		{problem.New(catalog.NotFound, ""), "NOT_FOUND"},
		{problem.New(catalog.NotFound, "gone"), "NOT_FOUND: gone"},
		{problem.Wrap(errors.New("no rows"), catalog.NotFound, "gone"), "NOT_FOUND: gone: no rows"},
		{problem.Internal(errors.New("boom")), "INTERNAL: boom"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.err.Error(), "%#v.Error()", tc.err)
	}
}

func TestErrorsIsAndAs(t *testing.T) {
	cause := errors.New("no rows")
	err := fmt.Errorf("get order: %w", problem.Wrap(cause, catalog.NotFound, "gone"))

	assert.ErrorIs(t, err, problem.New(catalog.NotFound, ""), "errors.Is(wrapped NOT_FOUND, New(NOT_FOUND))")
	assert.NotErrorIs(t, err, problem.New(catalog.Conflict, ""), "errors.Is(wrapped NOT_FOUND, New(CONFLICT))")
	assert.NotErrorIs(t, err, (*problem.Error)(nil), "errors.Is(err, nil *Error)")
	assert.ErrorIs(t, err, cause, "errors.Is(err, cause): Unwrap reaches the cause")
	assert.NotErrorIs(t, errors.New("NOT_FOUND"), problem.New(catalog.NotFound, ""), "errors.Is(plain, New(NOT_FOUND))")

	var pe *problem.Error
	assert.ErrorAs(t, err, &pe, "errors.As(err, *Error)")
	assert.Equal(t, "gone", pe.Message, "errors.As message")
	assert.Equal(t, cause, problem.New(catalog.NotFound, "").WithCause(cause).Unwrap(), "Unwrap()")
	assert.Nil(t, problem.New(catalog.NotFound, "").Unwrap(), "Unwrap() without cause")
}

func TestCodeOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain", errors.New("x"), ""},
		{"*Error", problem.New(catalog.Conflict, ""), catalog.Conflict},
		{"wrapped", fmt.Errorf("a: %w", problem.New(catalog.Conflict, "")), catalog.Conflict},
		{"outermost wins", problem.Wrap(problem.New(catalog.NotFound, ""), catalog.Conflict, ""), catalog.Conflict},
		{"panic", &problem.PanicError{Value: problem.New(catalog.Conflict, "")}, catalog.Conflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, problem.CodeOf(tc.err), "CodeOf(%v)", tc.err)
		})
	}
}

func TestWithMethods(t *testing.T) {
	cause := errors.New("cause")
	e := problem.New(catalog.ResourceExhausted, "").
		WithMeta("policy", "sandbox").WithMeta("policy", "production").WithMeta("limit", "25").
		WithHeader("x-ratelimit-limit", "25").WithHeader("X-RateLimit-Limit", "26").
		WithRetryAfter(1500 * time.Millisecond).
		WithCause(cause)
	assert.Equal(t, map[string]string{"policy": "production", "limit": "25"}, e.Metadata, "Metadata")
	assert.Equal(t, http.Header{"X-Ratelimit-Limit": {"25", "26"}}, e.Header, "Header (canonical keys, added)")
	assert.Equal(t, 1500*time.Millisecond, e.RetryAfter, "RetryAfter")
	assert.Same(t, cause, e.Cause, "Cause")
}

func TestPanicError(t *testing.T) {
	e := &problem.PanicError{Value: 42}
	assert.Equal(t, "panic: 42", e.Error(), "PanicError{42}.Error()")
	assert.Nil(t, e.Unwrap(), "PanicError{42}.Unwrap()")

	inner := errors.New("boom")
	e = &problem.PanicError{Value: inner}
	assert.Equal(t, "panic: boom", e.Error(), "PanicError{err}.Error()")
	assert.ErrorIs(t, e, inner, "errors.Is(PanicError{err}, err)")
}
