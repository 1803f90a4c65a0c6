// Package probekube is the Kubernetes side of the probe: the component's wiring, local mode's
// service-account token, the verifier pod and its watch, and the cleanup of crashed verifier pods.
// The verifier itself links none of it.
package probekube

import (
	"context"
	"fmt"
	"strings"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe"
)

// Workload identity's names (azure-workload-identity).
const (
	UseLabel      = "azure.workload.identity/use"
	ClientIDKey   = "azure.workload.identity/client-id"
	TenantIDKey   = "azure.workload.identity/tenant-id"
	TokenAudience = "api://AzureADTokenExchange"
	tokenExpiry   = 10 * time.Minute
	tenantIDEnv   = "AZURE_TENANT_ID"
)

// ProxyEnvNames are copied from the component's container to the verifier.
var ProxyEnvNames = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"}

// Component is the backup component whose identity the probe borrows.
type Component struct {
	Namespace      string
	ServiceAccount string
	Deployment     string
	// Container is the one that talks to Blob Storage ("" = the first).
	Container string
}

// Wiring is what the probe reads of the component: its identity and its proxy settings.
type Wiring struct {
	ClientID, TenantID string
	// LabelMissing: the deployment's pod template lacks azure.workload.identity/use: "true".
	LabelMissing bool
	// ProxyEnv is the storage container's proxy variables (literal values only).
	ProxyEnv []corev1.EnvVar
	// Step is the wiring step, failed when the identity cannot be used at all.
	Step probe.Step
	// Blocking: the probe cannot run (no service account, no client ID).
	Blocking bool
}

// IdentityOverrides replace what the service account says: ClientID and TenantID always, and
// TenantFallback when neither the annotation nor a running pod names the tenant ($AZURE_TENANT_ID).
type IdentityOverrides struct {
	ClientID, TenantID, TenantFallback string
}

// ReadWiring reads the component's service account and deployment. A missing label is reported but
// does not block: local mode still proves federation and RBAC, and cluster mode labels its own pod.
func ReadWiring(ctx context.Context, client kubernetes.Interface, c Component, o IdentityOverrides, now func() time.Time) Wiring {
	start := now()
	w := Wiring{Step: probe.Step{Name: probe.StepWiring, Endpoint: "serviceaccount/" + c.ServiceAccount, Status: probe.StatusOK}}
	fail := func(id, detail string, blocking bool) {
		w.Step.Status, w.Step.FindingID, w.Step.Detail = probe.StatusFailed, id, detail
		w.Blocking = w.Blocking || blocking
	}
	defer func() { w.Step.LatencyMS = probe.Millis(now().Sub(start)) }()
	sa, err := client.CoreV1().ServiceAccounts(c.Namespace).Get(ctx, c.ServiceAccount, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		fail(catalog.ServiceAccountMissing.ID, fmt.Sprintf("service account %s/%s does not exist", c.Namespace, c.ServiceAccount), true)
		return w
	case err != nil:
		fail(catalog.StorageRequestFailed.ID, "reading the service account: "+probe.OneLine(err), true)
		return w
	}
	w.ClientID, w.TenantID = sa.Annotations[ClientIDKey], sa.Annotations[TenantIDKey]
	var podEnv []corev1.EnvVar
	if c.Deployment != "" {
		d, err := client.AppsV1().Deployments(c.Namespace).Get(ctx, c.Deployment, metav1.GetOptions{})
		if err == nil {
			w.LabelMissing = !strings.EqualFold(d.Spec.Template.Labels[UseLabel], "true")
			for _, ctr := range d.Spec.Template.Spec.Containers {
				if c.Container == "" || ctr.Name == c.Container {
					podEnv = ctr.Env
					break
				}
			}
		}
	}
	for _, e := range podEnv {
		for _, name := range ProxyEnvNames {
			if e.Name == name && e.ValueFrom == nil {
				w.ProxyEnv = append(w.ProxyEnv, corev1.EnvVar{Name: e.Name, Value: e.Value})
			}
		}
	}
	if w.TenantID == "" {
		w.TenantID = injectedTenant(ctx, client, c)
	}
	if w.TenantID == "" {
		w.TenantID = o.TenantFallback
	}
	if o.ClientID != "" {
		w.ClientID = o.ClientID
	}
	if o.TenantID != "" {
		w.TenantID = o.TenantID
	}
	switch {
	case w.ClientID == "":
		fail(catalog.WIClientIDMissing.ID, fmt.Sprintf("service account %s/%s has no %s annotation (or give --client-id)", c.Namespace, c.ServiceAccount, ClientIDKey), true)
	case w.LabelMissing:
		fail(catalog.WILabelMissing.ID, fmt.Sprintf("deployment %s/%s's pod template lacks the label %s: \"true\", so the webhook gives its pods no identity", c.Namespace, c.Deployment, UseLabel), w.TenantID == "")
	case w.TenantID == "":
		fail(catalog.TokenExchangeFailed.ID, fmt.Sprintf("no tenant ID: service account %s/%s has no %s annotation and no running pod shows the webhook's default; give --tenant-id", c.Namespace, c.ServiceAccount, TenantIDKey), true)
	}
	return w
}

// injectedTenant reads AZURE_TENANT_ID from a running pod of the service account: the webhook's
// default tenant, used when the service account does not override it.
func injectedTenant(ctx context.Context, client kubernetes.Interface, c Component) string {
	pods, err := client.CoreV1().Pods(c.Namespace).List(ctx, metav1.ListOptions{Limit: 50})
	if err != nil {
		return ""
	}
	for _, p := range pods.Items {
		if p.Spec.ServiceAccountName != c.ServiceAccount {
			continue
		}
		for _, ctr := range p.Spec.Containers {
			for _, e := range ctr.Env {
				if e.Name == tenantIDEnv && e.Value != "" {
					return e.Value
				}
			}
		}
	}
	return ""
}

// CanI asks the API server whether the caller may do verb on resource (SelfSubjectAccessReview).
func CanI(ctx context.Context, client kubernetes.Interface, namespace, verb, resource, subresource, name string) (bool, error) {
	review := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
		Namespace: namespace, Verb: verb, Resource: resource, Subresource: subresource, Name: name}}}
	got, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("checking permission to %s %s: %w", verb, strings.TrimSuffix(resource+"/"+subresource, "/"), err)
	}
	return got.Status.Allowed, nil
}

// RequestToken is local mode's token-request step: a 10-minute token of the service account with
// Entra's audience. The caller keeps it in memory only and never prints it.
func RequestToken(ctx context.Context, client kubernetes.Interface, namespace, serviceAccount string, now func() time.Time) (string, probe.Step) {
	start := now()
	step := probe.Step{Name: probe.StepTokenRequest, Endpoint: "serviceaccount/" + serviceAccount, Status: probe.StatusOK}
	expiry := int64(tokenExpiry.Seconds())
	req := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{Audiences: []string{TokenAudience}, ExpirationSeconds: &expiry}}
	got, err := client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, serviceAccount, req, metav1.CreateOptions{})
	step.LatencyMS = probe.Millis(now().Sub(start))
	if err != nil {
		step.Status, step.FindingID, step.Detail = probe.StatusFailed, catalog.TokenRequestDenied.ID, probe.OneLine(err)
		if !apierrors.IsForbidden(err) {
			step.FindingID = catalog.StorageRequestFailed.ID
		}
		return "", step
	}
	return got.Status.Token, step
}
