// Package bench holds side-by-side benchmarks of faultline's rate limiter
// against other Go rate limiters. It is a separate module so that the
// peers never enter the library's dependency graph; all the code is in
// _test.go files.
package bench
