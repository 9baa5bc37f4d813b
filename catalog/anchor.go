package catalog

import "strings"

// Anchor returns the code's stable anchor in the error reference: its name
// in kebab case, NOT_FOUND as not-found. It is the same string a problem
// envelope's type carries after the type base URI and a slash, so with a
// type base URI that points at the reference, a problem type is the link to
// its entry.
func (c Code) Anchor() string { return Slug(c.Name) }

// Slug turns a code name into its anchor: lower case, with '-' for '_'.
// A valid name and its slug map one to one.
func Slug(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if c == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}

// LookupAnchor returns the code whose anchor is anchor. Only the exact
// anchor matches: NOT-FOUND and not_found find nothing.
func (c *Catalog) LookupAnchor(anchor string) (Code, bool) {
	name := strings.ToUpper(strings.ReplaceAll(anchor, "-", "_"))
	if Slug(name) != anchor {
		return Code{}, false
	}
	return c.Lookup(name)
}
