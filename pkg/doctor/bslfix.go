package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
)

// PhaseBSLConfig is the phase of doctor --fix that sets a BackupStorageLocation's config.
const PhaseBSLConfig = "bsl-config"

// fieldManager is the tool's field manager, the one identity configure writes with.
const fieldManager = "kubectl-aksbackup"

// useAADPatch turns on Entra ID for blob access; every other config key is left as it is.
var useAADPatch = []byte(`{"spec":{"config":{"useAAD":"true"}}}`)

// PlanUseAAD plans config.useAAD: "true" on the named Azure BackupStorageLocations of namespace, read
// again so that the plan shows their current value. A location already on Entra ID, gone, not Azure,
// or reading its key from storageAccountKeyEnvVar (a deliberate key setup) is left alone; a location
// Helm renders is patched with a reason saying that the next helm upgrade puts its value back.
func PlanUseAAD(ctx context.Context, client dynamic.Interface, namespace string, names []string) (*plan.Plan, error) {
	p := &plan.Plan{}
	res := client.Resource(bsl.Resource).Namespace(namespace)
	for _, name := range slices.Compact(slices.Sorted(slices.Values(names))) {
		obj, err := res.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading BackupStorageLocation %s/%s: %w", namespace, name, err)
		}
		config, _, _ := unstructured.NestedStringMap(obj.Object, "spec", "config")
		provider, _, _ := unstructured.NestedString(obj.Object, "spec", "provider")
		object := "backupstoragelocation/" + name
		keep := func(reason string) {
			p.Add(&plan.Change{Phase: PhaseBSLConfig, Action: plan.ActionKeep, Object: object, Namespace: namespace, Reason: reason})
		}
		switch {
		case !strings.EqualFold(provider, "azure") && !strings.HasSuffix(provider, "/azure"):
			keep("provider " + provider + " is not Azure")
			continue
		case strings.EqualFold(config["useAAD"], "true"):
			keep("useAAD is already true")
			continue
		case config["storageAccountKeyEnvVar"] != "":
			keep("storageAccountKeyEnvVar is set: the location uses a storage account key on purpose")
			continue
		}
		change := &plan.Change{Phase: PhaseBSLConfig, Action: "patch", Object: object, Namespace: namespace,
			Field: "spec.config.useAAD", From: config["useAAD"], To: "true",
			Apply: func(ctx context.Context, serverDryRun bool) error {
				opts := metav1.PatchOptions{FieldManager: fieldManager}
				if serverDryRun {
					opts.DryRun = []string{metav1.DryRunAll}
				}
				_, err := res.Patch(ctx, name, types.MergePatchType, useAADPatch, opts)
				return err
			}}
		if obj.GetLabels()["app.kubernetes.io/managed-by"] == "Helm" {
			change.Reason = "Helm renders this location: set useAAD: true in the chart's values too, or the next helm upgrade puts it back"
		}
		p.Add(change)
	}
	return p, nil
}
