package problem_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/problem"
)

const docBase = "https://errors.example.com/v1"

func docRenderer(t *testing.T, env string, links bool, cat *catalog.Catalog) *problem.Renderer {
	t.Helper()
	rd, _ := newRenderer(t, problem.Config{Envelope: env, TypeBaseURI: docBase + "/", DocLinks: links,
		ErrorDomain: testDomain, Catalog: cat}, slog.LevelInfo)
	return rd
}

// TestDocLinks checks, envelope by envelope, where an error links to its
// code's documentation with DocLinks on, and that nothing links without it.
func TestDocLinks(t *testing.T) {
	const url = docBase + "/not-found"
	const link = "<" + url + `>; rel="help"`
	bodyLink := map[string]func(t *testing.T, body map[string]any) any{
		problem.EnvelopeProblem: func(t *testing.T, b map[string]any) any { return b["type"] },
		problem.EnvelopeTracked: func(t *testing.T, b map[string]any) any {
			return object(t, object(t, b, "error"), "details")["documentation_url"]
		},
		problem.EnvelopeGoogleStrict: func(t *testing.T, b map[string]any) any {
			for _, d := range array(t, object(t, b, "error"), "details") {
				if m, _ := d.(map[string]any); m["@type"] == "type.googleapis.com/google.rpc.Help" {
					links := array(t, m, "links")
					require.Len(t, links, 1, "Help.links")
					l, _ := links[0].(map[string]any)
					assert.Equal(t, "Documentation of NOT_FOUND.", l["description"], "Help.links[0].description")
					return l["url"]
				}
			}
			return nil
		},
	}
	for _, env := range allEnvelopes {
		t.Run(env, func(t *testing.T) {
			on := serveThroughRequestID(docRenderer(t, env, true, nil), httptest.NewRequest(http.MethodGet, "/v1/x", nil), notFound())
			off := serveThroughRequestID(docRenderer(t, env, false, nil), httptest.NewRequest(http.MethodGet, "/v1/x", nil), notFound())
			assert.Equal(t, []string{link}, on.Header().Values("Link"), "Write with DocLinks: Link header")
			assert.Empty(t, off.Header().Values("Link"), "Write without DocLinks: Link header")
			if get, ok := bodyLink[env]; ok {
				assert.Equal(t, url, get(t, decodeObject(t, on.Body.Bytes())), "Write with DocLinks: link in the body %s", on.Body)
				if env != problem.EnvelopeProblem {
					assert.Nil(t, get(t, decodeObject(t, off.Body.Bytes())), "Write without DocLinks: link in the body %s", off.Body)
				}
				return
			}
			assert.Equal(t, off.Body.String(), on.Body.String(), "Write with DocLinks changed the %s body", env)
		})
	}
}

func TestDocLinksHeaderKeepsTheErrorsOwn(t *testing.T) {
	rd := docRenderer(t, problem.EnvelopeFlat, true, nil)
	rec := write(rd, "/x", problem.New(catalog.NotFound, "").WithHeader("Link", `</v1/orders>; rel="collection"`))
	assert.Equal(t, []string{`</v1/orders>; rel="collection"`, "<" + docBase + `/not-found>; rel="help"`},
		rec.Header().Values("Link"), "Write(error with a Link) Link headers")
	again := write(rd, "/x", notFound())
	assert.Equal(t, []string{"<" + docBase + `/not-found>; rel="help"`}, again.Header().Values("Link"),
		"Link of the next response (the shared value must not have been appended to)")
}

func TestDocLinksCodeRegisteredLater(t *testing.T) {
	cat := catalog.MustNew("")
	rd := docRenderer(t, problem.EnvelopeTracked, true, cat)
	require.NoError(t, cat.Register(catalog.Code{Name: "ORDER_LOCKED", Status: http.StatusConflict}))
	rec := write(rd, "/x", problem.New("ORDER_LOCKED", ""))
	assert.Equal(t, "<"+docBase+`/order-locked>; rel="help"`, rec.Header().Get("Link"), "Link of a code registered after NewRenderer")
	assert.Equal(t, docBase+"/order-locked",
		object(t, object(t, decodeObject(t, rec.Body.Bytes()), "error"), "details")["documentation_url"], "documentation_url")
}

func TestDocLinksNeedTypeBaseURI(t *testing.T) {
	_, err := problem.NewRenderer(problem.Config{DocLinks: true})
	assert.ErrorIs(t, err, problem.ErrInvalidConfig, "NewRenderer(DocLinks without TypeBaseURI)")
}
