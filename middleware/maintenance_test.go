package middleware_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

func TestSwitch(t *testing.T) {
	var zero middleware.Switch
	assert.False(t, zero.On(), "Switch{}.On() = true, want false")
	assert.False(t, middleware.NewSwitch(false).On(), "NewSwitch(false).On() = true, want false")
	sw := middleware.NewSwitch(true)
	assert.True(t, sw.On(), "NewSwitch(true).On() = false, want true")
	sw.Set(false)
	assert.False(t, sw.On(), "On() after Set(false) = true, want false")
	sw.Set(true)
	assert.True(t, sw.On(), "On() after Set(true) = false, want true")
}

func TestMaintenanceOn(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       string
	}{
		{"default", 0, "60"},
		{"negative means default", -time.Second, "60"},
		{"configured", 90 * time.Second, "90"},
		{"rounded up", 1500 * time.Millisecond, "2"},
		{"sub-second", time.Millisecond, "1"},
	}
	for _, env := range envelopes {
		for _, tt := range tests {
			t.Run(env+"/"+tt.name, func(t *testing.T) {
				rd, logs := newRenderer(t, env)
				var called atomic.Bool
				next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called.Store(true) })
				h := middleware.RequestID(middleware.Recover(rd)(
					middleware.Maintenance(middleware.NewSwitch(true), tt.retryAfter)(next)))
				rec := serve(h, http.MethodPost, "/v1/orders")

				b := requireError(t, rd, env, rec, http.StatusServiceUnavailable, catalog.Unavailable)
				assert.Equal(t, tt.want, rec.Header().Get("Retry-After"),
					"Maintenance(sw, %v): Retry-After = %q, want %q", tt.retryAfter, rec.Header().Get("Retry-After"), tt.want)
				assert.Equal(t, "The service is down for maintenance.", b.Message)
				assert.False(t, called.Load(), "the next handler must not run during maintenance")
				assert.Equal(t, "WARN", logs.only(t)["level"])
			})
		}
	}
}

func TestMaintenanceOff(t *testing.T) {
	rd, logs := newRenderer(t, problem.EnvelopeFlat)
	h := middleware.Recover(rd)(middleware.Maintenance(middleware.NewSwitch(false), 0)(okHandler))
	rec := serve(h, http.MethodGet, "/")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, `{"ok":true}`, rec.Body.String())
	assert.Empty(t, rec.Header().Get("Retry-After"))
	assert.Empty(t, logs.String())
}

func TestMaintenanceHead(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeTracked)
	h := middleware.Recover(rd)(middleware.Maintenance(middleware.NewSwitch(true), 0)(okHandler))
	rec := serve(h, http.MethodHead, "/")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "60", rec.Header().Get("Retry-After"))
	assert.Empty(t, rec.Body.String())
}

func TestMaintenanceFlipAtRuntime(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeFlat)
	sw := middleware.NewSwitch(false)
	h := middleware.Recover(rd)(middleware.Maintenance(sw, 0)(okHandler))

	require.Equal(t, http.StatusOK, serve(h, http.MethodGet, "/").Code, "switch off")
	sw.Set(true)
	require.Equal(t, http.StatusServiceUnavailable, serve(h, http.MethodGet, "/").Code, "switch on")
	sw.Set(false)
	require.Equal(t, http.StatusOK, serve(h, http.MethodGet, "/").Code, "switch off again")

	// Flip while requests are served; under -race this checks the switch
	// is safe for concurrent use, and every answer is one of the two.
	stop := make(chan struct{})
	var flipper sync.WaitGroup
	flipper.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				sw.Set(i%2 == 0)
			}
		}
	})
	var ok, unavailable atomic.Int64
	var requests sync.WaitGroup
	for range 4 {
		requests.Go(func() {
			for range 200 {
				rec := serve(h, http.MethodGet, "/")
				switch rec.Code {
				case http.StatusOK:
					ok.Add(1)
					assert.Equal(t, `{"ok":true}`, rec.Body.String())
				case http.StatusServiceUnavailable:
					unavailable.Add(1)
					assert.Equal(t, "60", rec.Header().Get("Retry-After"))
				default:
					t.Errorf("status %d during flips, want 200 or 503", rec.Code)
				}
			}
		})
	}
	requests.Wait()
	close(stop)
	flipper.Wait()
	assert.Equal(t, int64(800), ok.Load()+unavailable.Load())
}
