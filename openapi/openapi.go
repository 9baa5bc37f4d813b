// Package openapi describes a service's faultline errors in OpenAPI 3.1,
// from the same catalog and renderer that produce them: a schema for the
// envelope the service answers in, a reusable response per code with an
// example body rendered by the real renderer, and, for each route, the
// responses its handler and faultline middleware can produce. A service
// merges the generated components and responses into its own spec.
//
//	g, err := openapi.New(openapi.Config{Problem: cfg}) // cfg: the service's problem.Config
//	doc, err := g.Document(
//		openapi.Responses("GET", "/v1/accounts/{id}", catalog.NotFound).
//			With(openapi.Recover, openapi.KeyAuth, openapi.RateLimit),
//	)
package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/sample"
	"github.com/faultline-go/faultline/problem"
)

// Errors returned by New and Document. They are wrapped with the offending
// value, so test them with errors.Is.
var (
	ErrInvalidConfig = errors.New("openapi: invalid config")
	ErrNoSchema      = errors.New("openapi: no schema for envelope")
	ErrUnknownCode   = errors.New("openapi: code not in the catalog")
	ErrInvalidRoute  = errors.New("openapi: invalid route")
)

// Version is the OpenAPI version of the generated documents.
const Version = "3.1.0"

// Config configures a Generator.
type Config struct {
	// Problem is the service's renderer configuration: its Envelope,
	// Catalog (nil: the built-in catalog under Prefix), TypeBaseURI and
	// Extra envelopes are those the components describe. Logger and Now
	// are not used.
	Problem problem.Config
	// Schemas are the JSON Schemas of envelopes of the service's own
	// (Problem.Extra), by envelope name; the built-in envelopes have
	// theirs. The schema component is named after the envelope.
	Schemas map[string]map[string]any
	// Title and Version are the info of the document Document returns;
	// empty means "Errors" and "1".
	Title, Version string
}

// Generator produces the OpenAPI description of one envelope and catalog.
// It is immutable and safe for concurrent use.
type Generator struct {
	cat         *catalog.Catalog
	codes       []catalog.Code
	schemaName  string
	schema      map[string]any
	mediaType   string
	examples    map[string]json.RawMessage // by code name
	title, vers string
}

// New renders an example body for every code of the catalog and returns
// the generator. An envelope without a schema fails with ErrNoSchema; the
// errors of problem.NewRenderer wrap ErrInvalidConfig.
func New(cfg Config) (*Generator, error) {
	pc := cfg.Problem
	if pc.Catalog == nil {
		cat, err := catalog.New(pc.Prefix)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		pc.Catalog = cat
	}
	env := pc.Envelope
	if env == "" {
		env = problem.EnvelopeProblem
	}
	rd, err := sample.NewRenderer(pc, env)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	g := &Generator{cat: pc.Catalog, codes: pc.Catalog.Codes(), examples: map[string]json.RawMessage{},
		title: orDefault(cfg.Title, "Errors"), vers: orDefault(cfg.Version, "1")}
	if entry, ok := builtinSchemas()[env]; ok {
		g.schemaName, g.schema = entry.name, entry.schema()
	} else if s, ok := cfg.Schemas[env]; ok && s != nil {
		g.schemaName, g.schema = env, s
	} else {
		return nil, fmt.Errorf("%w %q: give its JSON Schema in Config.Schemas", ErrNoSchema, env)
	}
	if g.mediaType, _, err = mime.ParseMediaType(rd.Envelope().ContentType()); err != nil {
		return nil, fmt.Errorf("%w: content type of envelope %q: %w", ErrInvalidConfig, env, err)
	}
	for _, code := range g.codes {
		_, _, body := sample.Body(rd, code)
		if !json.Valid(body) {
			return nil, fmt.Errorf("%w: envelope %q wrote no JSON for %s", ErrInvalidConfig, env, code.Name)
		}
		g.examples[code.Name] = body
	}
	return g, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// SchemaName returns the name of the envelope's schema component.
func (g *Generator) SchemaName() string { return g.schemaName }

// Components returns the OpenAPI components object: the envelope's schema
// under schemas, one example (the renderer's body) and one response per
// code under examples and responses, each named after the code, and the
// headers the responses carry.
func (g *Generator) Components() map[string]any {
	examples := map[string]any{}
	responses := map[string]any{}
	for _, code := range g.codes {
		examples[code.Name] = map[string]any{
			"summary": strconv.Itoa(code.Status) + " " + code.Name,
			"value":   g.examples[code.Name],
		}
		responses[code.Name] = g.response(code.Name+": "+code.Message, []catalog.Code{code})
	}
	return map[string]any{
		"schemas":   map[string]any{g.schemaName: g.schema},
		"examples":  examples,
		"responses": responses,
		"headers":   headerComponents(),
	}
}

// response is a response object carrying the examples of codes, which
// share a status.
func (g *Generator) response(description string, codes []catalog.Code) map[string]any {
	examples := map[string]any{}
	var names []string
	for _, code := range codes {
		examples[code.Name] = ref("examples", code.Name)
		names = append(names, code.Name)
	}
	return map[string]any{
		"description": description,
		"headers":     headersFor(names),
		"content": map[string]any{g.mediaType: map[string]any{
			"schema":   ref("schemas", g.schemaName),
			"examples": examples,
		}},
	}
}

func ref(kind, name string) map[string]any {
	return map[string]any{"$ref": "#/components/" + kind + "/" + name}
}

// statusText is the reason phrase of status, or "Error".
func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}
