package kube

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ErrUnreachable marks errors where the API server could not be reached at all.
var ErrUnreachable = errors.New("API server unreachable")

// Explain wraps a client error with what the user can do about it. It keeps the original with %w.
func Explain(err error, host string) error {
	if err == nil {
		return nil
	}
	var urlErr *url.Error
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("%w at %s: %w; check that the cluster is running and that --kubeconfig/--context point at it", ErrUnreachable, host, err)
	case errors.As(err, &urlErr) && !isAPIStatus(err):
		return fmt.Errorf("%w at %s: %w; check that the cluster is running and that --kubeconfig/--context point at it", ErrUnreachable, host, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server at %s rejected the credentials (401): %w; refresh them (for AKS: az aks get-credentials, or kubelogin)", host, err)
	}
	return err
}

func isAPIStatus(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status)
}
