// Package catalog holds the error codes a service can answer with, the one
// source both the responses and their documentation come from.
//
// # The model
//
// A Code is one error a client can get: a canonical name (NOT_FOUND), an
// HTTP status, its name in each envelope (the flat code BLUM-404-001, the
// google status, the tracked code), whether retrying can help, a default
// message and a resolution telling the client what to do.
//
// A Catalog is a set of codes with unique names and unique flat codes under
// one prefix. New returns one holding the built-in codes (the constants
// InvalidArgument to DeadlineExceeded) and the service's own; Register adds
// more later. Registration fills in what a code leaves empty (the next free
// flat code of its status, the envelope names, the message) and checks the
// rest; a call registers all of its codes or none, and a registered code
// never changes.
//
// Lookups (Lookup, Ref, LookupFlat, Codes) read an immutable snapshot
// through one atomic load, so they take no lock and are safe while codes
// are registered: the renderer resolves a code on every error response
// without contention.
//
// WriteMarkdown and MarshalJSON publish the catalog as reference
// documentation.
package catalog
