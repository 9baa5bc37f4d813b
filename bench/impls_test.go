package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestImpls checks that every in-memory limiter is configured as the
// benchmarks assume: decisions on new and existing keys are allowed, from
// several deciders of one store.
func TestImpls(t *testing.T) {
	keys := makeKeys(100)
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			s := im.open(t)
			if s.close != nil {
				defer s.close()
			}
			for round := 0; round < 3; round++ {
				allow := s.decider()
				for _, k := range keys {
					if !allow(k) {
						t.Fatalf("round %d: allow(%q) = false, want true", round, k)
					}
				}
			}
			if s.len != nil {
				if got := s.len(); got != len(keys) {
					t.Errorf("len() = %d, want %d", got, len(keys))
				}
			}
		})
	}
}

// TestMiddlewares checks that every available middleware lets a request
// through to the handler.
func TestMiddlewares(t *testing.T) {
	for _, m := range middlewareImpls() {
		t.Run(m.name, func(t *testing.T) {
			mw, cleanup := m.new(t)
			if mw == nil {
				t.Skipf("%s middleware not available yet", m.name)
			}
			if cleanup != nil {
				defer cleanup()
			}
			h := mw(okHandler)
			for i := 0; i < 3; i++ {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/things", nil))
				if rec.Code != http.StatusOK || rec.Body.String() != string(okBody) {
					t.Fatalf("request %d: status %d body %q, want 200 %q", i, rec.Code, rec.Body, okBody)
				}
			}
		})
	}
}

// TestBytesPerKeySmall runs the bytes-per-key measurement on a few keys, so
// that its code is exercised without the cost of a million.
func TestBytesPerKeySmall(t *testing.T) {
	keys := makeKeys(1000)
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) {
			perKey, kept := measureBytesPerKey(t, im, keys)
			if kept >= 0 && kept != len(keys) {
				t.Errorf("kept %d keys, want %d", kept, len(keys))
			}
			t.Logf("%.0f B/key over %d keys", perKey, len(keys))
		})
	}
}
