package problem

// PanicError is a recovered panic, as the Recover middleware hands it to the
// renderer: the value and the stack of the panicking goroutine. The stack is
// logged, never sent.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic (runtime/debug.Stack).
	Stack []byte
}

// Error describes the panic for logs: "panic: " and the value, capped at
// MaxLogTextBytes (see the caps on log records), so that a huge panic value
// is never formatted whole.
func (e *PanicError) Error() string { return "panic: " + panicText(e.Value) }

// Unwrap returns the panic value when it is an error, so a panic with a
// *Error renders as that error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
