package middleware_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/middleware"
	"github.com/faultline-go/faultline/problem"
)

var _ http.Handler = middleware.HandlerFunc(nil)

func TestHandleReturnedErrors(t *testing.T) {
	notFound := problem.New(catalog.NotFound, "Order 42 does not exist.")
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
	}{
		{"*problem.Error", notFound, http.StatusNotFound, catalog.NotFound, "Order 42 does not exist."},
		{"wrapped with %w", fmt.Errorf("load order: %w", notFound), http.StatusNotFound, catalog.NotFound, "Order 42 does not exist."},
		{"twice wrapped", fmt.Errorf("handler: %w", fmt.Errorf("load order: %w", notFound)), http.StatusNotFound, catalog.NotFound, "Order 42 does not exist."},
		{"default message", problem.New(catalog.Conflict, ""), http.StatusConflict, catalog.Conflict, "Resource state conflict."},
		{"validation", problem.MissingField("amount"), http.StatusBadRequest, catalog.MissingField, "Missing required field: amount."},
	}
	for _, env := range envelopes {
		for _, tt := range tests {
			t.Run(env+"/"+tt.name, func(t *testing.T) {
				rd, logs := newRenderer(t, env)
				h := middleware.RequestID(middleware.Recover(rd)(middleware.Handle(func(w http.ResponseWriter, r *http.Request) error {
					return tt.err
				})))
				rec := serve(h, http.MethodGet, "/v1/orders/42")

				b := requireError(t, rd, env, rec, tt.status, tt.code)
				assert.Equal(t, tt.message, b.Message, "message")
				assert.Empty(t, b.ExcID, "a client error carries no exc id")
				assert.Equal(t, "INFO", logs.only(t)["level"])
			})
		}
	}
}

func TestHandleWrappedRendersSame(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, _ := newRenderer(t, env)
			pe := problem.New(catalog.NotFound, "No such account.").WithMeta("account", "acc_1")
			render := func(err error) (*httptest.ResponseRecorder, errBody) {
				req := httptest.NewRequest(http.MethodGet, "/v1/accounts/acc_1", nil)
				req.Header.Set(middleware.HeaderRequestID, "fixed-id")
				rec := httptest.NewRecorder()
				middleware.RequestID(middleware.Recover(rd)(middleware.Handle(func(http.ResponseWriter, *http.Request) error {
					return err
				}))).ServeHTTP(rec, req)
				return rec, parseBody(t, env, rec.Body.Bytes())
			}
			plainRec, plain := render(pe)
			wrappedRec, wrapped := render(fmt.Errorf("repo: %w", pe))
			assert.Equal(t, plainRec.Code, wrappedRec.Code)
			assert.Equal(t, plainRec.Header(), wrappedRec.Header())
			assert.Equal(t, plain, wrapped)
			if env != problem.EnvelopeTracked { // tracked carries a timestamp
				assert.Equal(t, plainRec.Body.String(), wrappedRec.Body.String())
			}
		})
	}
}

func TestHandlePlainErrorIsSanitized(t *testing.T) {
	for _, env := range envelopes {
		t.Run(env, func(t *testing.T) {
			rd, logs := newRenderer(t, env)
			h := middleware.Recover(rd)(middleware.Handle(func(w http.ResponseWriter, r *http.Request) error {
				return fmt.Errorf("select orders: %w", errors.New(secret))
			}))
			rec := serve(h, http.MethodGet, "/v1/orders")

			b := requireError(t, rd, env, rec, http.StatusInternalServerError, catalog.Internal)
			assert.NotContains(t, rec.Body.String(), "hunter2")
			assert.NotContains(t, rec.Body.String(), "select orders")
			rec0 := logs.only(t)
			assert.Equal(t, "ERROR", rec0["level"])
			assert.Equal(t, b.ExcID, rec0["exc_id"])
			assert.Equal(t, "select orders: "+secret, rec0["error"], "logged error")
		})
	}
}

func TestHandleErrorAfterWrite(t *testing.T) {
	write := func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/csv")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "id,amount\n1,")
		return problem.New(catalog.Unavailable, "export interrupted")
	}
	tests := []struct {
		name string
		wrap func(rd *problem.Renderer, h http.Handler) http.Handler
	}{
		{"under Recover", func(rd *problem.Renderer, h http.Handler) http.Handler {
			return middleware.RequestID(middleware.Recover(rd)(h))
		}},
		{"without Recover", func(rd *problem.Renderer, h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.ServeHTTP(w, r.WithContext(problem.NewContext(r.Context(), rd)))
			})
		}},
		{"bare", func(_ *problem.Renderer, h http.Handler) http.Handler { return h }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, logs := newRenderer(t, problem.EnvelopeFlat)
			rec := serve(tt.wrap(rd, middleware.Handle(write)), http.MethodGet, "/v1/export")

			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "text/csv", rec.Header().Get("Content-Type"))
			assert.Equal(t, "id,amount\n1,", rec.Body.String(), "body, want exactly what the handler wrote")
			if tt.name != "bare" { // bare logs to slog.Default
				rec0 := logs.only(t)
				assert.Equal(t, "WARN", rec0["level"])
				assert.Equal(t, true, rec0["committed"])
			}
		})
	}
}

func TestHandleNilError(t *testing.T) {
	tests := []struct {
		name     string
		handler  func(w http.ResponseWriter, r *http.Request) error
		wantCode int
		wantBody string
	}{
		{"writes", func(w http.ResponseWriter, r *http.Request) error {
			okHandler(w, r)
			return nil
		}, http.StatusOK, `{"ok":true}`},
		{"status only", func(w http.ResponseWriter, r *http.Request) error {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}, http.StatusNoContent, ""},
		{"nothing", func(w http.ResponseWriter, r *http.Request) error { return nil }, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, logs := newRenderer(t, problem.EnvelopeProblem)
			rec := serve(middleware.Recover(rd)(middleware.Handle(tt.handler)), http.MethodGet, "/")
			assert.Equal(t, tt.wantCode, rec.Code)
			assert.Equal(t, tt.wantBody, rec.Body.String())
			assert.NotEqual(t, problem.ContentTypeProblem, rec.Header().Get("Content-Type"))
			assert.Empty(t, rec.Header().Get(middleware.HeaderRequestID), "no id without RequestID on success")
			assert.Empty(t, logs.String())
		})
	}
}

func TestHandleWithChi(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeGoogle)
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recover(rd))
	r.Get("/v1/accounts/{id}", middleware.Handle(func(w http.ResponseWriter, r *http.Request) error {
		if id := chi.URLParam(r, "id"); id != "acc_1" {
			return problem.Newf(catalog.NotFound, "Account %s not found.", id)
		}
		okHandler(w, r)
		return nil
	}))

	rec := serve(r, http.MethodGet, "/v1/accounts/acc_1")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, `{"ok":true}`, rec.Body.String())

	rec = serve(r, http.MethodGet, "/v1/accounts/acc_2")
	b := requireError(t, rd, problem.EnvelopeGoogle, rec, http.StatusNotFound, catalog.NotFound)
	assert.Equal(t, "Account acc_2 not found.", b.Message)
}

func TestHandlerFuncServeHTTP(t *testing.T) {
	rd, _ := newRenderer(t, problem.EnvelopeFlat)
	var h http.Handler = middleware.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return problem.New(catalog.PermissionDenied, "")
	})
	rec := serve(middleware.Recover(rd)(h), http.MethodDelete, "/v1/orders/1")
	b := requireError(t, rd, problem.EnvelopeFlat, rec, http.StatusForbidden, catalog.PermissionDenied)
	require.Equal(t, "Permission denied.", b.Message)
}
