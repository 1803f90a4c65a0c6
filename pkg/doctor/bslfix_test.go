package doctor

import (
	"context"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
)

func location(name, provider string, config map[string]any, labels map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
		"metadata": map[string]any{"name": name, "namespace": "velero", "labels": labels},
		"spec":     map[string]any{"provider": provider, "objectStorage": map[string]any{"bucket": "velero"}, "config": config}}}
}

// patchRecorder keeps each patch's options; a dry-run patch is answered as the API server answers
// it, with the object unchanged (the dynamic fake drops the options).
type patchRecorder struct {
	dynamic.Interface
	opts *[]metav1.PatchOptions
}

func (r patchRecorder) Resource(gvr schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return recordingResource{r.Interface.Resource(gvr), r.opts}
}

type recordingResource struct {
	dynamic.NamespaceableResourceInterface
	opts *[]metav1.PatchOptions
}

func (r recordingResource) Namespace(ns string) dynamic.ResourceInterface {
	return recordingNamespaced{r.NamespaceableResourceInterface.Namespace(ns), r.opts}
}

type recordingNamespaced struct {
	dynamic.ResourceInterface
	opts *[]metav1.PatchOptions
}

func (r recordingNamespaced) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, sub ...string) (*unstructured.Unstructured, error) {
	*r.opts = append(*r.opts, opts)
	if len(opts.DryRun) > 0 {
		return r.Get(ctx, name, metav1.GetOptions{})
	}
	return r.ResourceInterface.Patch(ctx, name, pt, data, opts, sub...)
}

// TestPlanUseAAD: doctor --fix's BSL step patches config.useAAD to "true" on the Azure locations not
// on Entra ID, leaves the others (already true, a deliberate key, another provider) as keep rows,
// warns about a Helm-rendered location, sends dryRun=All on a server dry run without changing
// anything, keeps every other config key, and plans nothing on a rerun.
func TestPlanUseAAD(t *testing.T) {
	ctx := context.Background()
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{bsl.Resource: "BackupStorageLocationList"},
		location("default", "velero.io/azure", map[string]any{"storageAccount": "sa1", "resourceGroup": "rg", "useAAD": "false"}, nil),
		location("keyed", "azure", map[string]any{"storageAccount": "sa1", "storageAccountKeyEnvVar": "AZURE_STORAGE_ACCOUNT_ACCESS_KEY"}, nil),
		location("aad", "azure", map[string]any{"storageAccount": "sa1", "useAAD": "true"}, nil),
		location("helm", "azure", map[string]any{"storageAccount": "sa2"}, map[string]any{"app.kubernetes.io/managed-by": "Helm"}),
		location("s3", "aws", map[string]any{"region": "x"}, nil))
	var opts []metav1.PatchOptions
	dyn := patchRecorder{client, &opts}
	names := []string{"s3", "helm", "default", "aad", "keyed", "default"}
	p, err := PlanUseAAD(ctx, dyn, "velero", names)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ object, action, from, reason string }
	var got []row
	for _, c := range p.Changes {
		got = append(got, row{c.Object, c.Action, c.From, c.Reason})
	}
	want := []row{
		{"backupstoragelocation/aad", plan.ActionKeep, "", "useAAD is already true"},
		{"backupstoragelocation/default", "patch", "false", ""},
		{"backupstoragelocation/helm", "patch", "", "Helm renders this location: set useAAD: true in the chart's values too, or the next helm upgrade puts it back"},
		{"backupstoragelocation/keyed", plan.ActionKeep, "", "storageAccountKeyEnvVar is set: the location uses a storage account key on purpose"},
		{"backupstoragelocation/s3", plan.ActionKeep, "", "provider aws is not Azure"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plan\n got %+v\nwant %+v", got, want)
	}
	useAAD := func(name string) string {
		t.Helper()
		obj, err := client.Resource(bsl.Resource).Namespace("velero").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, _, _ := unstructured.NestedString(obj.Object, "spec", "config", "useAAD")
		return v
	}

	if err := p.Execute(ctx, true); err != nil {
		t.Fatal(err)
	}
	if len(opts) != 2 || !reflect.DeepEqual(opts[0].DryRun, []string{metav1.DryRunAll}) || opts[0].FieldManager != "kubectl-aksbackup" {
		t.Fatalf("server dry run sent %+v, want two patches with dryRun=All by kubectl-aksbackup", opts)
	}
	if p.Counts()[plan.DryRun] != 2 || useAAD("default") != "false" || useAAD("helm") != "" {
		t.Fatalf("the server dry run changed the locations: counts %v", p.Counts())
	}

	opts = nil
	if err := p.Execute(ctx, false); err != nil {
		t.Fatal(err)
	}
	if len(opts) != 2 || len(opts[0].DryRun) != 0 || useAAD("default") != "true" || useAAD("helm") != "true" || useAAD("keyed") != "" {
		t.Fatalf("after apply: options %+v, useAAD default %q helm %q keyed %q", opts, useAAD("default"), useAAD("helm"), useAAD("keyed"))
	}
	obj, _ := client.Resource(bsl.Resource).Namespace("velero").Get(ctx, "default", metav1.GetOptions{})
	if config, _, _ := unstructured.NestedStringMap(obj.Object, "spec", "config"); config["storageAccount"] != "sa1" || config["resourceGroup"] != "rg" {
		t.Fatalf("the patch dropped other config keys: %v", config)
	}

	again, err := PlanUseAAD(ctx, dyn, "velero", names)
	if err != nil || !again.Empty() {
		t.Fatalf("a rerun plans changes: %+v %v", again.Changes, err)
	}
	if _, err := PlanUseAAD(ctx, dyn, "velero", []string{"gone"}); err == nil {
		t.Fatal("a location that is gone is an error")
	}
}
