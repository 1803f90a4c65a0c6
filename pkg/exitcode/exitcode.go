// Package exitcode maps command outcomes to the process exit codes documented in the README.
package exitcode

import (
	"errors"
	"fmt"
)

const (
	// OK: the command did its job and found no error.
	OK = 0
	// Findings: the command ran and found at least one error-severity finding (already printed).
	Findings = 1
	// InvalidInput: bad flags, arguments, names or permissions, detected before anything changed.
	InvalidInput = 2
	// Failed: the command failed while running (API error, timeout); its output says what changed.
	Failed = 3
)

// Error carries an exit code with the error that caused it.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrFindings reports that the command already printed error findings; main prints nothing more.
var ErrFindings = &Error{Code: Findings}

// Invalid marks err as bad input: nothing was changed.
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: InvalidInput, Err: err}
}

// Invalidf formats a bad-input error.
func Invalidf(format string, args ...any) error {
	return &Error{Code: InvalidInput, Err: fmt.Errorf(format, args...)}
}

// Code returns the exit code for err; an error that carries no code is a runtime failure.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failed
}

// Silent reports whether main should print nothing for err because the command already reported it.
func Silent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Err == nil
}
