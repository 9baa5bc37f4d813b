// Package reqctx holds the per-request state that faultline's middleware and
// renderer share.
//
// # The model
//
// A State carries the request id, the renderer, the authenticated principal,
// the response writer wrapper of Recover and what other pieces record for
// the request. The first faultline middleware that sees a request attaches one
// (Ensure) and the others fill it in, so stacking the middleware costs one
// context value, and one allocation, rather than one per piece.
//
// A State belongs to the goroutine serving its request; nothing in it is
// locked. A goroutine that serves the request beside that one (Timeout's
// handler goroutine) gets a copy (Detach), and so does a context that must
// carry another renderer (WithRenderer): a context handed out earlier never
// sees its state change under it.
package reqctx
