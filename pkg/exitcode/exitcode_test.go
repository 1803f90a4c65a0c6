package exitcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestCode(t *testing.T) {
	tests := []struct {
		err    error
		code   int
		silent bool
	}{
		{nil, OK, false},
		{errors.New("boom"), Failed, false},
		{Invalidf("bad %s", "flag"), InvalidInput, false},
		{fmt.Errorf("wrapped: %w", Invalid(errors.New("x"))), InvalidInput, false},
		{ErrFindings, Findings, true},
	}
	for _, tc := range tests {
		if got := Code(tc.err); got != tc.code {
			t.Errorf("Code(%v) = %d, want %d", tc.err, got, tc.code)
		}
		if got := Silent(tc.err); got != tc.silent {
			t.Errorf("Silent(%v) = %v", tc.err, got)
		}
	}
	if Invalid(nil) != nil {
		t.Error("Invalid(nil) must be nil")
	}
}
