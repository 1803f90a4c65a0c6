package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/rollout"
)

// defaultReadTimeout bounds the read-only commands (identity status, triage, trusted-access status).
// Each request also gives up after kube.DefaultRequestTimeout without an answer.
const defaultReadTimeout = 2 * time.Minute

// defaultMaxPodLogs: Velero runs one replica; a namespace of many replicas of one configuration
// says what it has to say in a few logs, and each log is a request.
const defaultMaxPodLogs = 10

// bounded is an options struct whose --timeout bounds its whole Run; runE applies it.
type bounded interface {
	// limit is the bound; 0 means none.
	limit() time.Duration
}

func addTimeoutFlag(cmd *cobra.Command, target *time.Duration, defaultValue time.Duration, what string) {
	cmd.Flags().DurationVar(target, "timeout", defaultValue, what+" (0: no bound; each request still gives up after 30s without an answer, or after --request-timeout)")
}

func validateTimeout(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("--timeout must not be negative, got %s", d)
	}
	return nil
}

// withLimit bounds ctx by d; d <= 0 leaves it unbounded.
func withLimit(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// timedOut turns an error that ended a phase bounded by --timeout d into a runtime failure (exit 3)
// that says so, whatever code the error carried (a timed-out permission check is not bad input).
// Findings already printed (exit 1, e.g. bsl --wait-available at its timeout) stay as they are.
func timedOut(ctx context.Context, err error, d time.Duration) error {
	if err == nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) || exitcode.Code(err) == exitcode.Findings {
		return err
	}
	if errors.Is(err, rollout.ErrTimeout) {
		return &exitcode.Error{Code: exitcode.Failed, Err: err} // already says how long it waited
	}
	return &exitcode.Error{Code: exitcode.Failed, Err: fmt.Errorf("gave up after --timeout %s: %w", d, err)}
}

// accessError gives a CheckAccess failure its code: missing permissions are bad input (exit 2),
// failing to ask is a runtime failure (exit 3).
func accessError(err error, host string) error {
	if errors.Is(err, kube.ErrAccessDenied) {
		return exitcode.Invalid(err)
	}
	return kube.Explain(err, host)
}
