package openapi_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/openapi"
	"github.com/faultline-go/faultline/problem"
)

// xmlEnvelope is an envelope of a service's own.
type xmlEnvelope struct{ ct string }

func (xmlEnvelope) Name() string          { return "mine" }
func (e xmlEnvelope) ContentType() string { return e.ct }
func (xmlEnvelope) AppendBody(dst []byte, p *problem.Problem) []byte {
	return append(dst, `{"mine":"`+p.Code.Name+`"}`...)
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  openapi.Config
		want error
	}{
		{"unknown envelope", openapi.Config{Problem: problem.Config{Envelope: "xml"}}, openapi.ErrInvalidConfig},
		{"bad prefix", openapi.Config{Problem: problem.Config{Prefix: "bad prefix"}}, openapi.ErrInvalidConfig},
		{"google-strict with a bad error domain", openapi.Config{Problem: problem.Config{Envelope: problem.EnvelopeGoogleStrict,
			ErrorDomain: "orders example"}}, openapi.ErrInvalidConfig},
		{"own envelope without schema", openapi.Config{Problem: problem.Config{Envelope: "mine",
			Extra: []problem.Envelope{xmlEnvelope{"application/json"}}}}, openapi.ErrNoSchema},
		{"own envelope with a nil schema", openapi.Config{Problem: problem.Config{Envelope: "mine",
			Extra: []problem.Envelope{xmlEnvelope{"application/json"}}}, Schemas: map[string]map[string]any{"mine": nil}}, openapi.ErrNoSchema},
		{"own envelope with a bad content type", openapi.Config{Problem: problem.Config{Envelope: "mine",
			Extra: []problem.Envelope{xmlEnvelope{"no media type"}}}, Schemas: map[string]map[string]any{"mine": {"type": "object"}}}, openapi.ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := openapi.New(tt.cfg)
			assert.ErrorIs(t, err, tt.want, "New(%+v) = _, %v, want %v", tt.cfg, err, tt.want)
			assert.Nil(t, g, "New(%+v) = %v, _, want nil", tt.cfg, g)
		})
	}
}

func TestOwnEnvelope(t *testing.T) {
	schema := map[string]any{"type": "object", "required": []string{"mine"}}
	g, err := openapi.New(openapi.Config{
		Problem: problem.Config{Envelope: "mine", Extra: []problem.Envelope{xmlEnvelope{"application/vnd.mine+json; charset=utf-8"}}},
		Schemas: map[string]map[string]any{"mine": schema},
	})
	require.NoError(t, err)
	assert.Equal(t, "mine", g.SchemaName(), "SchemaName() of an envelope of the service's own")
	comp := g.Components()
	assert.Equal(t, schema, comp["schemas"].(map[string]any)["mine"], "components.schemas.mine")
	resp := comp["responses"].(map[string]any)[catalog.NotFound].(map[string]any)
	assert.Contains(t, resp["content"], "application/vnd.mine+json", "NOT_FOUND response content, want the envelope's media type without parameters")
	ex := comp["examples"].(map[string]any)[catalog.NotFound].(map[string]any)
	assert.JSONEq(t, `{"mine":"NOT_FOUND"}`, string(ex["value"].(json.RawMessage)), "NOT_FOUND example")
}

func TestSchemaNames(t *testing.T) {
	want := map[string]string{"flat": "FlatError", "google": "GoogleError", "tracked": "TrackedError", "problem": "Problem", "": "Problem",
		"google-strict": "GoogleStrictError"}
	for env, name := range want {
		g, err := openapi.New(openapi.Config{Problem: problem.Config{Envelope: env}})
		require.NoError(t, err)
		assert.Equal(t, name, g.SchemaName(), "New(envelope %q).SchemaName() = %q, want %q", env, g.SchemaName(), name)
	}
}

func TestComponents(t *testing.T) {
	cat := catalog.MustNew("BLUM", catalog.Code{Name: "DUPLICATE_ORDER", Status: 409})
	g, err := openapi.New(openapi.Config{Problem: problem.Config{Envelope: problem.EnvelopeTracked, Catalog: cat}})
	require.NoError(t, err)
	raw, err := json.Marshal(g.Components())
	require.NoError(t, err)
	var comp struct {
		Schemas   map[string]json.RawMessage
		Examples  map[string]struct{ Value map[string]any }
		Responses map[string]struct {
			Description string
			Headers     map[string]struct {
				Ref string `json:"$ref"`
			}
			Content map[string]struct {
				Schema struct {
					Ref string `json:"$ref"`
				}
				Examples map[string]struct {
					Ref string `json:"$ref"`
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal(raw, &comp))
	assert.Len(t, comp.Schemas, 1, "components.schemas, want the tracked envelope's only")
	for _, code := range cat.Codes() {
		t.Run(code.Name, func(t *testing.T) {
			ex, ok := comp.Examples[code.Name]
			require.True(t, ok, "components.examples lacks %s", code.Name)
			body := ex.Value["error"].(map[string]any)
			assert.Equal(t, code.Tracked, body["code"], "example %s error.code", code.Name)
			resp := comp.Responses[code.Name]
			assert.Equal(t, code.Name+": "+code.Message, resp.Description, "response %s description", code.Name)
			media := resp.Content["application/json"]
			assert.Equal(t, "#/components/schemas/TrackedError", media.Schema.Ref, "response %s schema", code.Name)
			assert.Equal(t, "#/components/examples/"+code.Name, media.Examples[code.Name].Ref, "response %s example", code.Name)
			assert.Equal(t, "#/components/headers/X-Request-Id", resp.Headers["X-Request-Id"].Ref, "response %s X-Request-Id", code.Name)
		})
	}
	assert.Contains(t, comp.Responses[catalog.ResourceExhausted].Headers, "Retry-After", "RESOURCE_EXHAUSTED headers")
	assert.Contains(t, comp.Responses[catalog.MethodNotAllowed].Headers, "Allow", "METHOD_NOT_ALLOWED headers")
	assert.Contains(t, comp.Responses[catalog.InvalidCredentials].Headers, "WWW-Authenticate", "INVALID_CREDENTIALS headers")
	assert.NotContains(t, comp.Responses[catalog.NotFound].Headers, "Retry-After", "NOT_FOUND headers")
}

func TestMiddlewareCodes(t *testing.T) {
	tests := []struct {
		mw   openapi.Middleware
		name string
		want []string
	}{
		{openapi.RequestID, "RequestID", nil},
		{openapi.Recover, "Recover", []string{catalog.Internal}},
		{openapi.KeyAuth, "KeyAuth", []string{catalog.MissingAuthorization, catalog.MalformedCredentials, catalog.InvalidCredentials}},
		{openapi.RateLimit, "RateLimit", []string{catalog.ResourceExhausted, catalog.Unavailable}},
		{openapi.Timeout, "Timeout", []string{catalog.DeadlineExceeded}},
		{openapi.Maintenance, "Maintenance", []string{catalog.Unavailable}},
		{openapi.NotFound, "NotFound", []string{catalog.NotFound}},
		{openapi.MethodNotAllowed, "MethodNotAllowed", []string{catalog.MethodNotAllowed}},
		{openapi.DecodeJSON, "DecodeJSON", []string{catalog.InvalidArgument, catalog.InvalidFormat, catalog.RequestTimeout,
			catalog.PayloadTooLarge, catalog.UnsupportedMediaType}},
		{openapi.Middleware(0), "Middleware(?)", nil},
		{openapi.Middleware(99), "Middleware(?)", nil},
	}
	builtin := catalog.MustNew("")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.name, tt.mw.String(), "Middleware(%d).String() = %q, want %q", int(tt.mw), tt.mw.String(), tt.name)
			assert.Equal(t, tt.want, tt.mw.Codes(), "%s.Codes() = %v, want %v", tt.name, tt.mw.Codes(), tt.want)
			for _, c := range tt.mw.Codes() {
				assert.NotNil(t, builtin.Ref(c), "%s.Codes() names %s, which is no built-in code", tt.name, c)
			}
		})
	}
}

func TestRouteErrors(t *testing.T) {
	g, err := openapi.New(openapi.Config{})
	require.NoError(t, err)
	tests := []struct {
		name   string
		routes []openapi.Route
		want   error
	}{
		{"lower-case method", []openapi.Route{openapi.Responses("get", "/x", catalog.NotFound)}, openapi.ErrInvalidRoute},
		{"unknown method", []openapi.Route{openapi.Responses("FETCH", "/x", catalog.NotFound)}, openapi.ErrInvalidRoute},
		{"relative path", []openapi.Route{openapi.Responses("GET", "x", catalog.NotFound)}, openapi.ErrInvalidRoute},
		{"path with a query", []openapi.Route{openapi.Responses("GET", "/x?y", catalog.NotFound)}, openapi.ErrInvalidRoute},
		{"unclosed parameter", []openapi.Route{openapi.Responses("GET", "/x/{id", catalog.NotFound)}, openapi.ErrInvalidRoute},
		{"empty parameter", []openapi.Route{openapi.Responses("GET", "/x/{}", catalog.NotFound)}, openapi.ErrInvalidRoute},
		{"stray brace", []openapi.Route{openapi.Responses("GET", "/x/id}", catalog.NotFound)}, openapi.ErrInvalidRoute},
		{"parameter twice", []openapi.Route{openapi.Responses("GET", "/x/{id}/{id}", catalog.NotFound)}, openapi.ErrInvalidRoute},
		{"no codes", []openapi.Route{openapi.Responses("GET", "/x").With(openapi.RequestID)}, openapi.ErrInvalidRoute},
		{"unknown middleware", []openapi.Route{openapi.Responses("GET", "/x").With(openapi.Middleware(42))}, openapi.ErrInvalidRoute},
		{"route twice", []openapi.Route{openapi.Responses("GET", "/x", catalog.NotFound), openapi.Responses("GET", "/x", catalog.Conflict)}, openapi.ErrInvalidRoute},
		{"unknown code", []openapi.Route{openapi.Responses("GET", "/x", "NOT_FOUNDD")}, openapi.ErrUnknownCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := g.Document(tt.routes...)
			assert.ErrorIs(t, err, tt.want, "Document(%+v) = _, %v, want %v", tt.routes, err, tt.want)
			assert.Nil(t, doc, "Document(%+v) = %s, want nil", tt.routes, doc)
		})
	}
}

func TestRouteWithCopies(t *testing.T) {
	base := openapi.Responses("GET", "/x", catalog.NotFound).With(openapi.Recover)
	a := base.With(openapi.KeyAuth)
	b := base.With(openapi.Timeout)
	assert.Equal(t, []openapi.Middleware{openapi.Recover, openapi.KeyAuth}, a.Middleware, "a.Middleware")
	assert.Equal(t, []openapi.Middleware{openapi.Recover, openapi.Timeout}, b.Middleware, "b.Middleware: With shares its slice")
	assert.Equal(t, []string{catalog.Internal, catalog.DeadlineExceeded, catalog.NotFound}, b.AllCodes(), "b.AllCodes()")
	dup := openapi.Responses("GET", "/x", catalog.Internal, catalog.NotFound).With(openapi.Recover, openapi.Recover)
	assert.Equal(t, []string{catalog.Internal, catalog.NotFound}, dup.AllCodes(), "AllCodes() with a code twice")
}

func TestDocument(t *testing.T) {
	g, err := openapi.New(openapi.Config{Title: "Orders", Version: "2.3"})
	require.NoError(t, err)
	raw, err := g.Document(
		openapi.Responses("GET", "/v1/accounts/{account}/orders/{id}", catalog.NotFound).With(openapi.KeyAuth),
		openapi.Responses("DELETE", "/v1/accounts/{account}/orders/{id}", catalog.Conflict),
	)
	require.NoError(t, err)
	var doc struct {
		OpenAPI string
		Info    struct{ Title, Version string }
		Paths   map[string]map[string]struct {
			Parameters []struct {
				Name, In string
				Required bool
			}
			Responses map[string]json.RawMessage
		}
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, "3.1.0", doc.OpenAPI, "openapi")
	assert.Equal(t, "Orders", doc.Info.Title, "info.title")
	assert.Equal(t, "2.3", doc.Info.Version, "info.version")
	item := doc.Paths["/v1/accounts/{account}/orders/{id}"]
	require.Len(t, item, 2, "path item operations = %v, want get and delete", item)
	get := item["get"]
	require.Len(t, get.Parameters, 2, "get parameters")
	assert.Equal(t, "account", get.Parameters[0].Name, "first parameter")
	assert.True(t, get.Parameters[1].Required && get.Parameters[1].In == "path", "second parameter = %+v, want a required path parameter", get.Parameters[1])
	assert.JSONEq(t, `{"$ref":"#/components/responses/NOT_FOUND"}`, string(get.Responses["404"]), "get 404")
	var many struct {
		Description string
		Content     map[string]struct{ Examples map[string]any }
	}
	require.NoError(t, json.Unmarshal(get.Responses["401"], &many))
	assert.Equal(t, "Unauthorized: one of MISSING_AUTHORIZATION, MALFORMED_CREDENTIALS, INVALID_CREDENTIALS.", many.Description, "get 401 description")
	assert.Len(t, many.Content[problem.ContentTypeProblem].Examples, 3, "get 401 examples")
	assert.Len(t, item["delete"].Responses, 1, "delete responses = %v, want 409 only", item["delete"].Responses)
}
