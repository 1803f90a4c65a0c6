package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
)

// ErrNotKubernetes marks a server that answers, but not as a Kubernetes API server does.
var ErrNotKubernetes = errors.New("does not look like a Kubernetes API server")

// CheckAPIServer reads /version, which every Kubernetes API server serves (to anonymous users too),
// so that a kubeconfig pointing at a web page, a proxy or another service is named as such instead of
// surfacing later as "not found" (a missing namespace, missing CRDs). Errors that come from a
// Kubernetes server (401, 403) pass: the command's own requests explain them. client is the
// discovery REST client; nil (a fake clientset) skips the check.
func CheckAPIServer(ctx context.Context, client rest.Interface, host string) error {
	if client == nil {
		return nil
	}
	// Do, not DoRaw: it decodes a Kubernetes Status from an error answer, and keeps other bodies.
	result := client.Get().AbsPath("/version").Do(ctx)
	body, _ := result.Raw()
	err := result.Error()
	switch {
	case err != nil && apierrors.IsUnexpectedServerError(err):
		return notKubernetes(host, fmt.Sprintf("GET /version answered %d with %s", statusCode(err), snippet(body)))
	case err != nil && isAPIStatus(err):
		return nil
	case err != nil:
		return Explain(err, host)
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if json.Unmarshal(body, &v) != nil || v.GitVersion == "" {
		return notKubernetes(host, "GET /version answered "+snippet(body)+", not a Kubernetes version document")
	}
	return nil
}

func notKubernetes(host, detail string) error {
	return fmt.Errorf("the server at %s %w (%s); check --server, --kubeconfig and --context: they must name the cluster's API endpoint (kubectl cluster-info shows it), not a web page or another service", host, ErrNotKubernetes, detail)
}

func statusCode(err error) int32 {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Code
	}
	return 0
}

// snippet quotes the start of a body that came from an unknown server: escaped and short.
func snippet(body []byte) string {
	const limit = 60
	if len(body) == 0 {
		return "an empty body"
	}
	s := string(body)
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
