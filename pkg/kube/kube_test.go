package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestExplain(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:1/api", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name        string
		err         error
		unreachable bool
		want        string
	}{
		{"connection refused", fmt.Errorf("reading x: %w", refused), true, "check that the cluster is running"},
		{"dns failure", &url.Error{Op: "Get", URL: "https://nope.invalid", Err: &net.DNSError{Err: "no such host", Name: "nope.invalid"}}, true, "--kubeconfig/--context"},
		{"unauthorized", apierrors.NewUnauthorized("token expired"), false, "kubelogin"},
		{"deadline", &url.Error{Op: "Get", URL: "https://api/version", Err: context.DeadlineExceeded}, false, "the API server at https://api did not answer in time"},
		{"client-go rate limiter at the deadline", errors.New("client rate limiter Wait returned an error: rate: Wait(n=1) would exceed context deadline"), false, "did not answer in time"},
		{"not found passes through", apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "x"), false, `pods "x" not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Explain(tc.err, "https://api")
			if errors.Is(got, ErrUnreachable) != tc.unreachable || !strings.Contains(got.Error(), tc.want) {
				t.Fatalf("Explain = %v", got)
			}
			if !errors.Is(got, tc.err) {
				t.Fatal("Explain must keep the original error with %w")
			}
		})
	}
	if Explain(nil, "x") != nil {
		t.Fatal("nil in, nil out")
	}
}

func TestCheckAccess(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		review := action.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview)
		review.Status.Allowed = review.Spec.ResourceAttributes.Resource == "pods"
		return true, review, nil
	})
	client.PrependReactor("create", "selfsubjectreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		return true, &authnv1.SelfSubjectReview{Status: authnv1.SelfSubjectReviewStatus{UserInfo: authnv1.UserInfo{Username: "viewer"}}}, nil
	})
	ctx := context.Background()
	if err := CheckAccess(ctx, client, []Access{{Verb: "list", Resource: "pods", Namespace: "ns"}}); err != nil {
		t.Fatal(err)
	}
	err := CheckAccess(ctx, client, []Access{
		{Verb: "patch", Resource: "serviceaccounts", Namespace: "ns"},
		{Verb: "list", Resource: "pods", Namespace: "ns"},
		{Verb: "patch", Group: "apps", Resource: "deployments", Namespace: "ns"},
	})
	want := `user "viewer" lacks RBAC permission to patch serviceaccounts in namespace ns; patch deployments.apps in namespace ns; nothing was changed`
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	// Failing to ask is not a denial.
	broken := fake.NewClientset()
	broken.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection reset by peer")
	})
	if err := CheckAccess(ctx, broken, []Access{{Verb: "list", Resource: "pods", Namespace: "ns"}}); err == nil || errors.Is(err, ErrAccessDenied) {
		t.Fatalf("a failed review reads as a denial: %v", err)
	}
}

func TestFactoryRejectsUnknownContext(t *testing.T) {
	flags := genericclioptions.NewConfigFlags(false)
	kubeconfig := t.TempDir() + "/config"
	writeKubeconfig(t, kubeconfig)
	flags.KubeConfig = &kubeconfig
	missing := "nope"
	flags.Context = &missing
	_, err := NewFactory(flags).Clientset()
	if err == nil || !strings.Contains(err.Error(), `context "nope" does not exist in --kubeconfig `+kubeconfig+` (known: lab)`) {
		t.Fatalf("err = %v", err)
	}
	known := "lab"
	flags.Context = &known
	f := NewFactory(flags)
	if _, err := f.Clientset(); err != nil {
		t.Fatal(err)
	}
	explicit, contextNS, err := f.Namespaces()
	if err != nil || explicit != "" || contextNS != "team-a" {
		t.Fatalf("namespaces %q %q %v", explicit, contextNS, err)
	}
	if f.Host() != "https://127.0.0.1:6443" {
		t.Fatalf("host %s", f.Host())
	}
}

func TestAKSClusterFromKubeconfig(t *testing.T) {
	raw := clientcmdapi.Config{CurrentContext: "aks-prod", Contexts: map[string]*clientcmdapi.Context{
		"aks-prod": {Cluster: "aks-prod", AuthInfo: "clusterUser_rg_with_underscores_aks-prod"},
		"admin":    {Cluster: "aks-prod", AuthInfo: "clusterAdmin_rg1_aks-prod"},
		"kind":     {Cluster: "kind-kind", AuthInfo: "kind-kind"},
	}}
	tests := []struct {
		context, rg, name string
		ok                bool
	}{
		{"", "rg_with_underscores", "aks-prod", true},
		{"admin", "rg1", "aks-prod", true},
		{"kind", "", "", false},
		{"missing", "", "", false},
	}
	for _, tc := range tests {
		rg, name, ok := AKSClusterFromKubeconfig(raw, tc.context)
		if rg != tc.rg || name != tc.name || ok != tc.ok {
			t.Errorf("%q: %q %q %v", tc.context, rg, name, ok)
		}
	}
}
