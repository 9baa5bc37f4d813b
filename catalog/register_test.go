package catalog_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
)

func TestRegisterAutoFlat(t *testing.T) {
	c := catalog.MustNew("BLUM")
	steps := []struct {
		name   string
		code   catalog.Code
		want   string
		reason string
	}{
		{"first user 409", catalog.Code{Name: "DUPLICATE_ORDER", Status: 409}, "BLUM-409-002", "CONFLICT holds 001"},
		{"second user 409", catalog.Code{Name: "ORDER_LOCKED", Status: 409}, "BLUM-409-003", "002 is taken"},
		{"new status", catalog.Code{Name: "TEAPOT", Status: 418}, "BLUM-418-001", "418 has no code yet"},
		{"next 400", catalog.Code{Name: "BAD_SYMBOL", Status: 400}, "BLUM-400-004", "three built-in 400s"},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			require.NoError(t, c.Register(step.code), "Register(%s) = error, want nil", step.code.Name)
			got, ok := c.Lookup(step.code.Name)
			require.True(t, ok, "Lookup(%q) = _, false, want true", step.code.Name)
			assert.Equal(t, step.want, got.Flat, "Lookup(%q).Flat = %q, want %q (%s)", step.code.Name, got.Flat, step.want, step.reason)
		})
	}

	t.Run("several in one call", func(t *testing.T) {
		c := catalog.MustNew("BLUM")
		require.NoError(t, c.Register(
			catalog.Code{Name: "A_CONFLICT", Status: 409},
			catalog.Code{Name: "B_CONFLICT", Status: 409},
		))
		for name, want := range map[string]string{"A_CONFLICT": "BLUM-409-002", "B_CONFLICT": "BLUM-409-003"} {
			got, _ := c.Lookup(name)
			assert.Equal(t, want, got.Flat, "Lookup(%q).Flat = %q, want %q", name, got.Flat, want)
		}
	})
}

func TestRegisterExplicitFlat(t *testing.T) {
	tests := []struct {
		name  string
		codes []catalog.Code
		want  map[string]string // name -> flat
	}{
		{
			name:  "explicit honoured",
			codes: []catalog.Code{{Name: "DUPLICATE_ORDER", Status: 409, Flat: "BLUM-409-007"}},
			want:  map[string]string{"DUPLICATE_ORDER": "BLUM-409-007"},
		},
		{
			name: "auto before explicit skips it",
			codes: []catalog.Code{
				{Name: "AUTO", Status: 409},
				{Name: "EXPLICIT", Status: 409, Flat: "BLUM-409-002"},
			},
			want: map[string]string{"AUTO": "BLUM-409-003", "EXPLICIT": "BLUM-409-002"},
		},
		{
			name: "auto after explicit skips it",
			codes: []catalog.Code{
				{Name: "EXPLICIT", Status: 409, Flat: "BLUM-409-002"},
				{Name: "AUTO", Status: 409},
			},
			want: map[string]string{"AUTO": "BLUM-409-003", "EXPLICIT": "BLUM-409-002"},
		},
		{
			name: "auto fills a gap below explicit",
			codes: []catalog.Code{
				{Name: "EXPLICIT", Status: 409, Flat: "BLUM-409-003"},
				{Name: "AUTO", Status: 409},
			},
			want: map[string]string{"AUTO": "BLUM-409-002", "EXPLICIT": "BLUM-409-003"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := catalog.MustNew("BLUM")
			require.NoError(t, c.Register(tt.codes...))
			for name, want := range tt.want {
				got, ok := c.Lookup(name)
				require.True(t, ok, "Lookup(%q) = _, false, want true", name)
				assert.Equal(t, want, got.Flat, "Lookup(%q).Flat = %q, want %q", name, got.Flat, want)
				byFlat, ok := c.LookupFlat(want)
				require.True(t, ok, "LookupFlat(%q) = _, false, want true", want)
				assert.Equal(t, name, byFlat.Name, "LookupFlat(%q).Name = %q, want %q", want, byFlat.Name, name)
			}
		})
	}
}

func TestRegisterErrors(t *testing.T) {
	valid := catalog.Code{Name: "VALID_FIRST", Status: 409}
	tests := []struct {
		name string
		code catalog.Code
		want error
	}{
		{"duplicate built-in name", catalog.Code{Name: catalog.NotFound, Status: 404}, catalog.ErrDuplicateName},
		{"duplicate name in batch", catalog.Code{Name: valid.Name, Status: 410}, catalog.ErrDuplicateName},
		{"duplicate built-in flat", catalog.Code{Name: "GONE", Status: 404, Flat: "BLUM-404-001"}, catalog.ErrDuplicateFlat},
		{"status 399", catalog.Code{Name: "TOO_LOW", Status: 399}, catalog.ErrInvalidStatus},
		{"status 600", catalog.Code{Name: "TOO_HIGH", Status: 600}, catalog.ErrInvalidStatus},
		{"status 200", catalog.Code{Name: "OK_STATUS", Status: 200}, catalog.ErrInvalidStatus},
		{"status 0", catalog.Code{Name: "NO_STATUS"}, catalog.ErrInvalidStatus},
		{"flat wrong prefix", catalog.Code{Name: "X", Status: 409, Flat: "ERR-409-002"}, catalog.ErrInvalidFlat},
		{"flat wrong status", catalog.Code{Name: "X", Status: 409, Flat: "BLUM-410-002"}, catalog.ErrInvalidFlat},
		{"flat two digits", catalog.Code{Name: "X", Status: 409, Flat: "BLUM-409-02"}, catalog.ErrInvalidFlat},
		{"flat four digits", catalog.Code{Name: "X", Status: 409, Flat: "BLUM-409-0002"}, catalog.ErrInvalidFlat},
		{"flat zero sequence", catalog.Code{Name: "X", Status: 409, Flat: "BLUM-409-000"}, catalog.ErrInvalidFlat},
		{"flat letters", catalog.Code{Name: "X", Status: 409, Flat: "BLUM-409-abc"}, catalog.ErrInvalidFlat},
		{"flat lower-case prefix", catalog.Code{Name: "X", Status: 409, Flat: "blum-409-002"}, catalog.ErrInvalidFlat},
		{"name lower case", catalog.Code{Name: "not_found_2", Status: 404}, catalog.ErrInvalidName},
		{"name empty", catalog.Code{Status: 404}, catalog.ErrInvalidName},
		{"name leading digit", catalog.Code{Name: "1_NOT_FOUND", Status: 404}, catalog.ErrInvalidName},
		{"name dash", catalog.Code{Name: "NOT-FOUND", Status: 404}, catalog.ErrInvalidName},
		{"name space", catalog.Code{Name: "NOT FOUND", Status: 404}, catalog.ErrInvalidName},
		{"name too long", catalog.Code{Name: strings.Repeat("A", 65), Status: 404}, catalog.ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := catalog.MustNew("BLUM")
			before := c.Codes()
			err := c.Register(valid, tt.code)
			require.Error(t, err, "Register(%s, %+v) = nil, want %v", valid.Name, tt.code, tt.want)
			assert.ErrorIs(t, err, tt.want, "Register(%s, %+v) = %v, want %v", valid.Name, tt.code, err, tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "catalog: "), "Register(...) error %q, want the prefix %q", err, "catalog: ")

			// All or none: the valid code in the same batch is not registered.
			assert.Equal(t, builtinCount, c.Len(), "Len() after a failed Register = %d, want %d", c.Len(), builtinCount)
			_, ok := c.Lookup(valid.Name)
			assert.False(t, ok, "Lookup(%q) after a failed Register = _, true, want false", valid.Name)
			_, ok = c.LookupFlat("BLUM-409-002")
			assert.False(t, ok, "LookupFlat(%q) after a failed Register = _, true, want false", "BLUM-409-002")
			assert.Equal(t, before, c.Codes(), "Codes() changed after a failed Register")

			// The catalog still works: the valid code registers on its own.
			require.NoError(t, c.Register(valid), "Register(%s) after a failed batch = error, want nil", valid.Name)
			assert.Equal(t, builtinCount+1, c.Len(), "Len() = %d, want %d", c.Len(), builtinCount+1)
		})
	}
}

func TestRegisterDuplicateFlatInBatch(t *testing.T) {
	c := catalog.MustNew("BLUM")
	err := c.Register(
		catalog.Code{Name: "FIRST", Status: 409, Flat: "BLUM-409-005"},
		catalog.Code{Name: "SECOND", Status: 409, Flat: "BLUM-409-005"},
	)
	assert.ErrorIs(t, err, catalog.ErrDuplicateFlat, "Register(two codes with BLUM-409-005) = %v, want %v", err, catalog.ErrDuplicateFlat)
	assert.Equal(t, builtinCount, c.Len(), "Len() = %d, want %d", c.Len(), builtinCount)
}

func TestRegisterSequenceFull(t *testing.T) {
	c := catalog.MustNew("BLUM")
	codes := make([]catalog.Code, 999)
	for i := range codes {
		codes[i] = catalog.Code{Name: fmt.Sprintf("TEAPOT_%03d", i+1), Status: 418, Flat: fmt.Sprintf("BLUM-418-%03d", i+1)}
	}
	// One sequence left free, for the automatic code below.
	codes[499] = catalog.Code{Name: "TEAPOT_500", Status: 418}
	require.NoError(t, c.Register(codes...), "Register(999 codes of 418) = error, want nil")
	auto, _ := c.Lookup("TEAPOT_500")
	assert.Equal(t, "BLUM-418-500", auto.Flat, "Lookup(TEAPOT_500).Flat = %q, want the one free sequence %q", auto.Flat, "BLUM-418-500")
	last, _ := c.Lookup("TEAPOT_999")
	assert.Equal(t, "BLUM-418-999", last.Flat, "Lookup(TEAPOT_999).Flat = %q, want %q", last.Flat, "BLUM-418-999")

	err := c.Register(catalog.Code{Name: "TEAPOT_1000", Status: 418})
	assert.ErrorIs(t, err, catalog.ErrSequenceFull, "Register(1000th code of 418) = %v, want %v", err, catalog.ErrSequenceFull)
	assert.Equal(t, builtinCount+999, c.Len(), "Len() = %d, want %d", c.Len(), builtinCount+999)
}

func TestRegisterDefaults(t *testing.T) {
	tests := []struct {
		name string
		code catalog.Code
		want catalog.Code
	}{
		{
			name: "listed status",
			code: catalog.Code{Name: "ORDER_REJECTED", Status: 422},
			want: catalog.Code{Name: "ORDER_REJECTED", Status: 422, Flat: "BLUM-422-002",
				Google: "ORDER_REJECTED", Tracked: "VALIDATION_ERROR", Message: "Unprocessable Entity"},
		},
		{
			name: "unlisted status uses the name",
			code: catalog.Code{Name: "TEAPOT", Status: 418},
			want: catalog.Code{Name: "TEAPOT", Status: 418, Flat: "BLUM-418-001",
				Google: "TEAPOT", Tracked: "TEAPOT", Message: http.StatusText(418)},
		},
		{
			name: "status without text",
			code: catalog.Code{Name: "ODD_FAILURE", Status: 599},
			want: catalog.Code{Name: "ODD_FAILURE", Status: 599, Flat: "BLUM-599-001",
				Google: "ODD_FAILURE", Tracked: "ODD_FAILURE", Message: "Error"},
		},
		{
			name: "explicit fields kept",
			code: catalog.Code{Name: "WALLET_NOT_FOUND", Status: 404, Google: "NOT_FOUND", Tracked: "WALLET_MISSING",
				Title: "Wallet not found", Retryable: true, Message: "Wallet not found.", Resolution: "Check the wallet id."},
			want: catalog.Code{Name: "WALLET_NOT_FOUND", Status: 404, Flat: "BLUM-404-002", Google: "NOT_FOUND",
				Tracked: "WALLET_MISSING", Title: "Wallet not found", Retryable: true, Message: "Wallet not found.",
				Resolution: "Check the wallet id."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := catalog.MustNew("BLUM")
			require.NoError(t, c.Register(tt.code))
			got, ok := c.Lookup(tt.code.Name)
			require.True(t, ok, "Lookup(%q) = _, false, want true", tt.code.Name)
			assert.Equal(t, tt.want, got, "Lookup(%q) = %+v, want %+v", tt.code.Name, got, tt.want)
		})
	}
}
