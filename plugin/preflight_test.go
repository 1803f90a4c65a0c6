package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	snapshotfake "github.com/kubernetes-csi/external-snapshotter/client/v8/clientset/versioned/fake"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/preflight"
)

// preflightCluster is a cluster ready for AKS Backup, plus extra objects.
func preflightCluster(extra ...runtime.Object) *fakeFactory {
	objs := append([]runtime.Object{
		&storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: preflight.DiskCSIDriver}},
		&storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: preflight.FileCSIDriver}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{corev1.LabelOSStable: "linux"}},
			Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi")},
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}},
	}, extra...)
	client := fake.NewClientset(objs...)
	disc := client.Discovery().(*fakediscovery.FakeDiscovery)
	disc.FakedServerVersion = &version.Info{GitVersion: "v1.34.4"}
	disc.Resources = []*metav1.APIResourceList{{GroupVersion: "snapshot.storage.k8s.io/v1", APIResources: []metav1.APIResource{
		{Name: "volumesnapshots"}, {Name: "volumesnapshotcontents"}, {Name: "volumesnapshotclasses"}}}}
	client.AppsV1() // the snapshot controller is looked up in kube-system
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		preflight.PodIdentityExceptions: "AzurePodIdentityExceptionList",
	})
	snapshots := snapshotfake.NewSimpleClientset(&snapshotv1.VolumeSnapshotClass{ObjectMeta: metav1.ObjectMeta{Name: "csi-azuredisk-vsc"}, Driver: preflight.DiskCSIDriver})
	return &fakeFactory{client: client, dyn: dyn, snapshots: snapshots}
}

func runPreflight(t *testing.T, f *fakeFactory, args ...string) (string, string, error) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := NewRootCommand(streams)
	root.ResetCommands()
	root.AddCommand(NewPreflightCommand(f, streams))
	root.SetArgs(append([]string{"preflight"}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	root.SetContext(ctx)
	err := Execute(root)
	return out.String(), errOut.String(), err
}

func inTreeDisk(name string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{AzureDisk: &corev1.AzureDiskVolumeSource{DiskName: name}}}}
}

func TestPreflightExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		factory *fakeFactory
		azure   *azurefake.Client
		args    []string
		code    int
		want    []string
	}{
		{name: "ready", factory: preflightCluster(), args: []string{"--no-azure"}, code: exitcode.OK,
			want: []string{"READY: AKS Backup can be installed", "snapshot-controller-missing", "PERSISTENT VOLUMES: 0"}},
		{name: "in-tree volume", factory: preflightCluster(inTreeDisk("pv-old")), args: []string{"--no-azure"}, code: exitcode.Findings,
			want: []string{"NOT READY: first fix pv-in-tree-unsupported", "pv-old"}},
		{name: "bad output", factory: preflightCluster(), args: []string{"--no-azure", "-o", "xml"}, code: exitcode.InvalidInput},
		{name: "bad page size", factory: preflightCluster(), args: []string{"--no-azure", "--page-size", "0"}, code: exitcode.InvalidInput},
		{name: "portworx without the cluster", factory: preflightCluster(), args: []string{"--no-azure", "--portworx"}, code: exitcode.InvalidInput},
		{name: "unreachable API server", factory: func() *fakeFactory { f := preflightCluster(); f.serverErr = errors.New("connection refused"); return f }(),
			args: []string{"--no-azure"}, code: exitcode.Failed},
		{name: "azure: workload identity off", factory: preflightCluster(), args: []string{"--cluster-id", azurefake.ClusterID},
			azure: func() *azurefake.Client {
				c := azurefake.AKSBackup()
				c.Cluster.WorkloadIdentityEnabled = false
				return c
			}(),
			code: exitcode.Findings, want: []string{"workload-identity-disabled", "az aks update --resource-group lab-rg --name lab-aks --enable-workload-identity", "resource-providers"}},
		{name: "azure: httpProxyConfig without .cluster.local", factory: preflightCluster(), args: []string{"--cluster-id", azurefake.ClusterID},
			azure: func() *azurefake.Client {
				c := azurefake.AKSBackup()
				c.Cluster.HTTPProxy = &azure.HTTPProxyConfig{HTTPSProxy: "http://user:secret@proxy.corp:3128", NoProxy: []string{".svc"}}
				return c
			}(),
			code: exitcode.Findings, want: []string{"proxy-no-proxy-incomplete  cluster/httpProxyConfig", "NO_PROXY lacks .cluster.local", `"noProxy": [".svc",".cluster.local"]`}},
		{name: "azure: unknown cluster", factory: preflightCluster(), args: []string{"--cluster-id", strings.Replace(azurefake.ClusterID, "lab-aks", "other", 1)},
			azure: azurefake.AKSBackup(), code: exitcode.InvalidInput},
		{name: "azure: unregistered provider", factory: preflightCluster(), args: []string{"--cluster-id", azurefake.ClusterID},
			azure: func() *azurefake.Client {
				c := azurefake.AKSBackup()
				c.Providers = map[string]string{"microsoft.dataprotection": "NotRegistered"}
				return c
			}(),
			code: exitcode.Findings, want: []string{"resource-provider-not-registered", "az provider register --namespace Microsoft.DataProtection"}},
		{name: "portworx: missing actions", factory: preflightCluster(), args: []string{"--cluster-id", azurefake.ClusterID, "--portworx"},
			azure: func() *azurefake.Client {
				c := azurefake.AKSBackup()
				c.Permissions = map[string][]azure.Permission{"/subscriptions/" + azurefake.Subscription + "/resourceGroups/MC_lab-rg_lab-aks_eastus": {{Actions: []string{"Microsoft.Compute/*/read"}}}}
				return c
			}(),
			code: exitcode.Findings, want: []string{"portworx-permission-missing", "Microsoft.Compute/disks/write", "az role definition create"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.azure != nil {
				withAzure(t, tc.azure)
			}
			out, errOut, err := runPreflight(t, tc.factory, tc.args...)
			if exitcode.Code(err) != tc.code {
				t.Fatalf("exit %d (%v), want %d\n%s%s", exitcode.Code(err), err, tc.code, out, errOut)
			}
			if strings.Contains(out+errOut, "proxy.corp") {
				t.Errorf("the proxy URL reached the output:\n%s", out)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestPreflightJSON(t *testing.T) {
	out, _, err := runPreflight(t, preflightCluster(inTreeDisk("pv-old")), "--no-azure", "-o", "json")
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("exit %d: %v", exitcode.Code(err), err)
	}
	var r preflight.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if r.Kind != "Preflight" || r.Ready || r.Volumes.Total != 1 || r.Findings[0].ID != "pv-in-tree-unsupported" || r.KubernetesVersion != "v1.34.4" {
		t.Errorf("document: %+v", r)
	}
}
