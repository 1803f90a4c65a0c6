package preflight

import (
	"context"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
)

const podIdentityGroupVersion = "aadpodidentity.k8s.io/v1"

// PodIdentityExceptions is AAD Pod Identity's AzurePodIdentityException resource: the documented way
// to let a namespace's pods reach IMDS without NMI answering for them.
var PodIdentityExceptions = schema.GroupVersionResource{Group: "aadpodidentity.k8s.io", Version: "v1", Resource: "azurepodidentityexceptions"}

// podIdentityExceptionFix creates an exception for the extension's pods, on one line. Its podLabels
// must match labels every extension pod carries; the Helm release label does.
const podIdentityExceptionFix = `echo '{"apiVersion":"aadpodidentity.k8s.io/v1","kind":"AzurePodIdentityException","metadata":{"name":"aks-backup-exception","namespace":"dataprotection-microsoft"},"spec":{"podLabels":{"app.kubernetes.io/instance":"azure-aks-backup"}}}' | kubectl apply -f -`

func (r *runner) checkPodIdentity(ctx context.Context) error {
	const name = "aad-pod-identity"
	list, err := r.in.Client.Discovery().ServerResourcesForGroupVersion(podIdentityGroupVersion)
	switch {
	case apierrors.IsNotFound(err):
		r.add(Check{Name: name, Status: StatusOK, Detail: "not installed"})
		return nil
	case err != nil:
		if r.forbidden(name, "get", "/apis/"+podIdentityGroupVersion, err) {
			return nil
		}
		return readError("discover "+podIdentityGroupVersion, err)
	}
	if !slices.ContainsFunc(list.APIResources, func(res metav1.APIResource) bool { return res.Name == PodIdentityExceptions.Resource }) {
		r.add(Check{Name: name, Status: StatusOK, Detail: "installed without the AzurePodIdentityException CRD"})
		return nil
	}
	exceptions, err := r.in.Dynamic.Resource(PodIdentityExceptions).Namespace(ExtensionNamespace).List(ctx, metav1.ListOptions{Limit: r.in.PageSize})
	if err != nil {
		if r.forbidden(name, "list", "azurepodidentityexceptions.aadpodidentity.k8s.io -n "+ExtensionNamespace, err) {
			return nil
		}
		return readError("list AzurePodIdentityExceptions in "+ExtensionNamespace, err)
	}
	var covering []string
	for _, e := range exceptions.Items {
		// An exception with no pod labels matches nothing, so it does not count.
		if labels, found, _ := unstructured.NestedStringMap(e.Object, "spec", "podLabels"); found && len(labels) > 0 {
			covering = append(covering, e.GetName())
		}
	}
	if len(covering) == 0 {
		r.add(Check{Name: name, Status: StatusFailed, Detail: "installed; no AzurePodIdentityException in " + ExtensionNamespace},
			catalog.PodIdentityExceptionMissing.New("namespace/"+ExtensionNamespace,
				"AAD Pod Identity is installed and no AzurePodIdentityException with podLabels exists in namespace "+ExtensionNamespace+" (a namespace label does not exempt pods)",
				podIdentityExceptionFix))
		return nil
	}
	r.add(Check{Name: name, Status: StatusOK, Detail: "installed; exception " + strings.Join(sample(covering, r.in.Samples), ", ") + " in " + ExtensionNamespace})
	return nil
}
