package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ErrUnreachable marks errors where the API server could not be reached at all.
var ErrUnreachable = errors.New("API server unreachable")

// ErrNoAnswer marks errors where the API server took the connection but did not answer in time.
var ErrNoAnswer = errors.New("did not answer in time")

// Explain wraps a client error with what the user can do about it. It keeps the original with %w.
func Explain(err error, host string) error {
	if err == nil {
		return nil
	}
	var urlErr *url.Error
	var netErr net.Error
	switch {
	case errors.Is(err, ErrUnreachable), errors.Is(err, ErrNoAnswer), errors.Is(err, ErrNotKubernetes), errors.Is(err, ErrCredentialPlugin):
		return err // already explained
	case missingExecPlugin(err):
		return fmt.Errorf("%w: %w; install the program the kubeconfig's user runs (for AKS: kubelogin, `az aks install-cli`), or fix users[].user.exec.command", ErrCredentialPlugin, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w at %s: %w; check that the cluster is running and that --kubeconfig/--context point at it", ErrUnreachable, host, err)
	case isDeadline(err), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("the API server at %s %w: %w; check that the cluster is running and reachable from here (VPN, firewall, authorized IP ranges, private cluster), or raise --timeout/--request-timeout", host, ErrNoAnswer, err)
	case errors.As(err, &urlErr) && !isAPIStatus(err):
		return fmt.Errorf("%w at %s: %w; check that the cluster is running and that --kubeconfig/--context point at it", ErrUnreachable, host, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server at %s rejected the credentials (401): %w; refresh them (for AKS: az aks get-credentials, or kubelogin)", host, err)
	}
	return err
}

// isDeadline matches a context deadline, also in client-go's rate limiter, which does not wrap it.
func isDeadline(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "would exceed context deadline")
}

// missingExecPlugin matches client-go's exec authenticator error for a credential program that is
// not installed; client-go flattens exec.ErrNotFound into text.
func missingExecPlugin(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "exec: executable ") && strings.Contains(msg, " not found")
}

func isAPIStatus(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status)
}
