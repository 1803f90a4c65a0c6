package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
)

// options is the kubectl command pattern: fill from flags and config, check, then act.
type options interface {
	Complete(cmd *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// runE adapts an options struct to cobra. Complete and Validate failures are bad input (exit 2);
// Run's failures are runtime failures (exit 3) unless Run chose a code. A bounded command's Run gets
// a context that ends at its --timeout.
func runE(o options) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(cmd, args); err != nil {
			return withCode(err, exitcode.InvalidInput)
		}
		if err := o.Validate(); err != nil {
			return withCode(withHelpHint(cmd, err), exitcode.InvalidInput)
		}
		var limit time.Duration
		if b, ok := o.(bounded); ok {
			limit = b.limit()
		}
		ctx, cancel := withLimit(cmd.Context(), limit)
		defer cancel()
		if err := runWithin(ctx, limit, o.Run); err != nil {
			return withCode(timedOut(ctx, err, limit), exitcode.Failed)
		}
		return nil
	}
}

// stopGrace is how long a bounded Run may take to return once its --timeout has passed.
var stopGrace = 5 * time.Second

// runWithin runs run, and returns at the latest stopGrace after ctx ends even if run has not: what
// it waits on may ignore cancellation (client-go runs exec credential plugins such as kubelogin
// without a context), and --timeout must still end the command.
func runWithin(ctx context.Context, limit time.Duration, run func(context.Context) error) error {
	if limit <= 0 {
		return run(ctx)
	}
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	select {
	case err := <-done:
		return err
	case <-time.After(stopGrace):
		return fmt.Errorf("%w, and the command did not stop within %s of it: something it waits on ignores cancellation (an exec credential plugin such as kubelogin?)", ctx.Err(), stopGrace)
	}
}

func withCode(err error, code int) error {
	var coded *exitcode.Error
	if errors.As(err, &coded) {
		return err
	}
	return &exitcode.Error{Code: code, Err: err}
}
