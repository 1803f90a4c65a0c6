package probekube

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe"
)

func TestReadWiring(t *testing.T) {
	comp := Component{Namespace: "velero", ServiceAccount: "velero", Deployment: "velero", Container: "velero"}
	sa := func(annotations map[string]string) *corev1.ServiceAccount {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: "velero", Annotations: annotations}}
	}
	deploy := func(labelled bool) *appsv1.Deployment {
		labels := map[string]string{}
		if labelled {
			labels[UseLabel] = "true"
		}
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: "velero"}, Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "velero",
				Env: []corev1.EnvVar{{Name: "NO_PROXY", Value: "10.0.0.1"}, {Name: "HTTPS_PROXY", ValueFrom: &corev1.EnvVarSource{}}}}}}}}}
	}
	injectedPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "velero-1", Namespace: "velero"}, Spec: corev1.PodSpec{ServiceAccountName: "velero",
		Containers: []corev1.Container{{Name: "velero", Env: []corev1.EnvVar{{Name: "AZURE_TENANT_ID", Value: "from-pod"}}}}}}
	ids := map[string]string{ClientIDKey: "client", TenantIDKey: "tenant"}
	tests := []struct {
		name      string
		objs      []runtime.Object
		o         IdentityOverrides
		finding   string
		blocking  bool
		tenant    string
		proxyVars int
	}{
		{name: "wired", objs: []runtime.Object{sa(ids), deploy(true)}, tenant: "tenant", proxyVars: 1},
		{name: "no service account", objs: []runtime.Object{deploy(true)}, finding: catalog.ServiceAccountMissing.ID, blocking: true},
		{name: "no client ID", objs: []runtime.Object{sa(nil), deploy(true)}, finding: catalog.WIClientIDMissing.ID, blocking: true, proxyVars: 1},
		{name: "client ID from the flag", objs: []runtime.Object{sa(map[string]string{TenantIDKey: "t"}), deploy(true)}, o: IdentityOverrides{ClientID: "c"}, tenant: "t", proxyVars: 1},
		{name: "tenant from a running pod", objs: []runtime.Object{sa(map[string]string{ClientIDKey: "c"}), deploy(true), injectedPod}, o: IdentityOverrides{TenantFallback: "env"}, tenant: "from-pod", proxyVars: 1},
		{name: "tenant from the environment", objs: []runtime.Object{sa(map[string]string{ClientIDKey: "c"}), deploy(true)}, o: IdentityOverrides{TenantFallback: "env"}, tenant: "env", proxyVars: 1},
		{name: "no label does not block", objs: []runtime.Object{sa(ids), deploy(false)}, finding: catalog.WILabelMissing.ID, tenant: "tenant", proxyVars: 1},
		{name: "no label and no tenant blocks", objs: []runtime.Object{sa(map[string]string{ClientIDKey: "c"}), deploy(false)}, finding: catalog.WILabelMissing.ID, blocking: true, proxyVars: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ReadWiring(context.Background(), fake.NewClientset(tt.objs...), comp, tt.o, time.Now)
			if w.Step.FindingID != tt.finding || w.Blocking != tt.blocking || (tt.tenant != "" && w.TenantID != tt.tenant) || len(w.ProxyEnv) != tt.proxyVars {
				t.Errorf("wiring = %+v", w)
			}
		})
	}
}

func TestRequestToken(t *testing.T) {
	const issued = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dmVsZXJvOnZlbGVybyJ9.c2lnbmF0dXJl"
	// What the API server answers when RBAC lets the caller read the service account but not mint its tokens.
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "serviceaccounts"}, "velero",
		errors.New(`User "dev@example.com" cannot create resource "serviceaccounts/token" in API group "" in the namespace "velero"`))
	tests := []struct {
		name    string
		err     error
		finding string
	}{
		{name: "issued"},
		{name: "RBAC forbids create serviceaccounts/token", err: forbidden, finding: catalog.TokenRequestDenied.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset()
			var audiences []string
			client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
				if a.GetSubresource() != "token" {
					return false, nil, nil
				}
				audiences = a.(k8stesting.CreateAction).GetObject().(*authnv1.TokenRequest).Spec.Audiences
				if tt.err != nil {
					return true, nil, tt.err
				}
				return true, &authnv1.TokenRequest{Status: authnv1.TokenRequestStatus{Token: issued}}, nil
			})
			token, step := RequestToken(context.Background(), client, "velero", "velero", time.Now)
			if !slices.Equal(audiences, []string{TokenAudience}) {
				t.Errorf("token requested for audiences %v, want [%s]", audiences, TokenAudience)
			}
			if strings.Contains(step.Detail, issued) {
				t.Error("the step's detail holds the token")
			}
			var wantIDs []string
			if tt.finding == "" {
				if token != issued || step.Status != probe.StatusOK {
					t.Fatalf("token issued: %v, step %+v", token == issued, step)
				}
			} else {
				wantIDs = []string{tt.finding}
				if token != "" || step.Status != probe.StatusFailed || !strings.Contains(step.Detail, "cannot create resource") {
					t.Fatalf("step %+v, token returned: %v", step, token != "")
				}
			}
			if ids := reportedIDs(step); !slices.Equal(ids, wantIDs) {
				t.Errorf("reported findings %v, want %v", ids, wantIDs)
			}
		})
	}
}
