// Package reference documents a catalog: a Markdown error reference with
// one table per status class and one entry per code, each with the real
// body the renderer sends in every envelope; the catalog's JSON form; and
// an http.Handler that serves both, so that a problem type
// (https://host/errors/not-found) resolves to its entry.
//
// A Reference is built once from a problem.Config, the one the service
// builds its renderer from, and reflects the catalog as it was then:
//
//	ref, err := reference.New(reference.Config{Problem: cfg})
//	h, err := ref.Handler("/errors")
//	r.Handle("/errors", h)
//	r.Handle("/errors/*", h)
package reference

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/faultline-go/faultline/catalog"
	"github.com/faultline-go/faultline/internal/sample"
	"github.com/faultline-go/faultline/problem"
)

// Errors returned by New and Handler. They are wrapped with the offending
// value, so test them with errors.Is.
var (
	ErrInvalidConfig = errors.New("reference: invalid config")
	ErrInvalidMount  = errors.New("reference: invalid mount path")
)

// Config configures a Reference.
type Config struct {
	// Problem is the service's renderer configuration. Its Catalog (nil
	// means the built-in catalog under Problem.Prefix), TypeBaseURI and
	// Extra envelopes shape the reference; its Envelope, Logger and Now
	// are not used.
	Problem problem.Config
	// Envelopes names the envelopes each entry shows an example body in;
	// nil means the built-in ones, an empty slice none.
	Envelopes []string
}

// Example is one example body of a code: what the renderer answers a
// request for it with, in one envelope. The request id, timestamp and exc_
// id are fixed, so the body changes only when the code or the envelope do.
type Example struct {
	// Envelope is the envelope's name.
	Envelope string
	// ContentType is the Content-Type of the response.
	ContentType string
	// Body is the body, as the renderer writes it.
	Body []byte
}

// Reference is the documentation of a catalog. It is immutable and safe for
// concurrent use.
type Reference struct {
	prefix   string
	codes    []catalog.Code
	json     []byte               // the catalog's JSON form
	examples map[string][]Example // by code name, in the order of Config.Envelopes
	types    map[string][2]string // problem type and title, by code name
}

// New renders the examples of every code of cfg's catalog and returns the
// reference. An unknown envelope name fails with an error wrapping
// ErrInvalidConfig, as do the errors of problem.NewRenderer.
func New(cfg Config) (*Reference, error) {
	envs := cfg.Envelopes
	if envs == nil {
		envs = sample.Envelopes()
	}
	pc := cfg.Problem
	if pc.Catalog == nil {
		cat, err := catalog.New(pc.Prefix)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		pc.Catalog = cat
	}
	ref := &Reference{
		prefix:   pc.Catalog.Prefix(),
		codes:    pc.Catalog.Codes(),
		examples: map[string][]Example{},
		types:    map[string][2]string{},
	}
	probe, err := sample.NewRenderer(pc, problem.EnvelopeProblem)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	for _, code := range ref.codes {
		if ref.types[code.Name], err = problemType(probe, code); err != nil {
			return nil, err
		}
		ref.examples[code.Name] = make([]Example, 0, len(envs))
	}
	for _, env := range envs {
		rd, err := sample.NewRenderer(pc, env)
		if err != nil {
			return nil, fmt.Errorf("%w: envelope %q: %w", ErrInvalidConfig, env, err)
		}
		for _, code := range ref.codes {
			_, ct, body := sample.Body(rd, code)
			ref.examples[code.Name] = append(ref.examples[code.Name], Example{Envelope: env, ContentType: ct, Body: body})
		}
	}
	if ref.json, err = catalogJSON(ref.prefix, ref.codes); err != nil {
		return nil, err
	}
	return ref, nil
}

// problemType returns the type and title the problem envelope gives code.
func problemType(rd *problem.Renderer, code catalog.Code) ([2]string, error) {
	_, _, body := sample.Body(rd, code)
	var p struct{ Type, Title string }
	if err := json.Unmarshal(body, &p); err != nil {
		return [2]string{}, fmt.Errorf("%w: problem body of %s: %w", ErrInvalidConfig, code.Name, err)
	}
	return [2]string{p.Type, p.Title}, nil
}

// Examples returns the example bodies of the code named name, one per
// envelope, in the order of Config.Envelopes; nil for an unknown code.
func (ref *Reference) Examples(name string) []Example {
	ex, ok := ref.examples[name]
	if !ok {
		return nil
	}
	out := make([]Example, len(ex))
	for i, e := range ex {
		out[i] = e
		out[i].Body = bytes.Clone(e.Body)
	}
	return out
}

// WriteJSON writes the catalog's JSON form, as catalog.Catalog.MarshalJSON
// gives it, indented, with a final newline.
func (ref *Reference) WriteJSON(w io.Writer) error {
	_, err := w.Write(ref.json)
	return err
}

// catalogJSON is the indented JSON form of the catalog with prefix and codes.
func catalogJSON(prefix string, codes []catalog.Code) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		Prefix string         `json:"prefix"`
		Codes  []catalog.Code `json:"codes"`
	}{prefix, codes})
	return buf.Bytes(), err
}
