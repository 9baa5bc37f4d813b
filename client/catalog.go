package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/faultline-go/faultline/catalog"
)

// Catalog is what a client knows of a server's error codes: for each code
// its canonical name, status, name in every envelope and retryable flag.
// Given to a Decoder or a Transport, it maps any envelope's code to the
// canonical name and makes the code's retryable flag, not the status
// alone, decide whether a request is retried. A Catalog is immutable and
// safe for concurrent use.
type Catalog struct {
	byName    map[string]*entry
	byFlat    map[string]*entry
	byGoogle  map[string]*entry
	byTracked map[string]*entry // only categories that name one code
}

// entry is one code of a Catalog.
type entry struct {
	Name      string `json:"name"`
	Status    int    `json:"status"`
	Flat      string `json:"flat"`
	Google    string `json:"google"`
	Tracked   string `json:"tracked"`
	Retryable bool   `json:"retryable"`
}

// ParseCatalog reads a catalog in the JSON form json.Marshal gives a
// *catalog.Catalog, {"prefix":"BLUM","codes":[{"name":...},...]}, as a
// service may publish it. Members it does not use are ignored. It fails
// with ErrInvalidCatalog for malformed JSON, a code without a name, a
// status outside 400-599 or a name or flat code given twice.
func ParseCatalog(data []byte) (*Catalog, error) {
	var doc struct {
		Codes []*entry `json:"codes"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidCatalog, err)
	}
	if doc.Codes == nil {
		return nil, fmt.Errorf("%w: no codes member", ErrInvalidCatalog)
	}
	c := newCatalog(len(doc.Codes))
	for i, e := range doc.Codes {
		if e == nil || e.Name == "" {
			return nil, fmt.Errorf("%w: code %d has no name", ErrInvalidCatalog, i)
		}
		if e.Status < 400 || e.Status > 599 {
			return nil, fmt.Errorf("%w: %s has status %d, want 400-599", ErrInvalidCatalog, e.Name, e.Status)
		}
		if err := c.add(e); err != nil {
			return nil, err
		}
	}
	c.indexTracked()
	return c, nil
}

// CatalogOf returns what a client needs of c, as of now: codes registered
// in c later are not seen.
func CatalogOf(c *catalog.Catalog) *Catalog {
	codes := c.Codes()
	out := newCatalog(len(codes))
	for _, code := range codes {
		// A *catalog.Catalog has unique names and flat codes already.
		_ = out.add(&entry{Name: code.Name, Status: code.Status, Flat: code.Flat,
			Google: code.Google, Tracked: code.Tracked, Retryable: code.Retryable})
	}
	out.indexTracked()
	return out
}

func newCatalog(n int) *Catalog {
	return &Catalog{
		byName: make(map[string]*entry, n), byFlat: make(map[string]*entry, n),
		byGoogle: make(map[string]*entry, n), byTracked: make(map[string]*entry, n),
	}
}

// add indexes e by name, flat code and google name; a google name shared
// by several codes resolves to the code of that name, else the first.
func (c *Catalog) add(e *entry) error {
	if _, dup := c.byName[e.Name]; dup {
		return fmt.Errorf("%w: code %s given twice", ErrInvalidCatalog, e.Name)
	}
	if e.Flat != "" {
		if other, dup := c.byFlat[e.Flat]; dup {
			return fmt.Errorf("%w: flat code %s given to %s and %s", ErrInvalidCatalog, e.Flat, other.Name, e.Name)
		}
		c.byFlat[e.Flat] = e
	}
	c.byName[e.Name] = e
	if e.Google == "" {
		e.Google = e.Name
	}
	if prev, ok := c.byGoogle[e.Google]; !ok || prev.Name != e.Google && e.Name == e.Google {
		c.byGoogle[e.Google] = e
	}
	return nil
}

// indexTracked maps each tracked code to its catalog code where only one
// code uses it (INVALID_REQUEST stands for three codes, so it maps to
// none; the tracked envelope's details.reason names the code then).
func (c *Catalog) indexTracked() {
	count := map[string]int{}
	for _, e := range c.byName {
		if e.Tracked != "" {
			count[e.Tracked]++
		}
	}
	for _, e := range c.byName {
		if count[e.Tracked] == 1 {
			c.byTracked[e.Tracked] = e
		}
	}
}

// flat returns the code whose flat code is flat, or nil.
func (c *Catalog) flat(flat string) *entry {
	if c == nil {
		return nil
	}
	return c.byFlat[flat]
}

// name returns the code named name, or nil.
func (c *Catalog) name(name string) *entry {
	if c == nil {
		return nil
	}
	return c.byName[name]
}

// google returns the code whose google status is status, or nil.
func (c *Catalog) google(status string) *entry {
	if c == nil {
		return nil
	}
	return c.byGoogle[status]
}

// tracked returns the only code whose tracked code is code, or nil.
func (c *Catalog) tracked(code string) *entry {
	if c == nil {
		return nil
	}
	return c.byTracked[code]
}

// builtins is the index of the built-in codes, by flat code with the
// catalog's default prefix: built once, never written afterwards.
var builtins = sync.OnceValue(func() *Catalog {
	return CatalogOf(catalog.MustNew(catalog.DefaultPrefix))
})

// builtinFlat maps a flat code of any prefix to the built-in code with the
// same status and sequence (BLUM-404-001 to NOT_FOUND), as every faultline
// service and the flat API it follows number them.
func builtinFlat(flat string) *entry {
	i := strings.IndexByte(flat, '-')
	if i <= 0 {
		return nil
	}
	return builtins().flat(catalog.DefaultPrefix + flat[i:])
}

// builtinTracked maps a tracked category to the built-in code it stands
// for when the body names no reason: the one code of that category, or
// INVALID_ARGUMENT, the generic code, for INVALID_REQUEST.
func builtinTracked(code string) *entry {
	if code == "INVALID_REQUEST" {
		return builtins().name(catalog.InvalidArgument)
	}
	return builtins().tracked(code)
}

// builtinStatus returns the built-in code of a status that has only one,
// or INVALID_ARGUMENT for 400; nil otherwise (401 has three).
func builtinStatus(status int) *entry {
	if status == 400 {
		return builtins().name(catalog.InvalidArgument)
	}
	var found *entry
	for _, e := range builtins().byName {
		if e.Status == status {
			if found != nil {
				return nil
			}
			found = e
		}
	}
	return found
}
