package preflight

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	snapshotv1 "github.com/kubernetes-csi/external-snapshotter/client/v8/apis/volumesnapshot/v1"
	snapshotfake "github.com/kubernetes-csi/external-snapshotter/client/v8/clientset/versioned/fake"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

// world is a cluster as the fakes serve it; healthy() is ready for AKS Backup.
type world struct {
	version          string
	objects          []runtime.Object
	snapshotCRDs     bool
	podIdentity      bool
	dynamicObjects   []runtime.Object
	snapshotClasses  []runtime.Object
	reactSnapshots   func(*snapshotfake.Clientset)
	cluster          *ClusterFacts
	azureSkipped     string
	portworx         *PortworxInput
	providers        []findings.Finding
	providersChecked bool
	// react adds reactors to the clientset (forbidden reads, paging).
	react func(*fake.Clientset)
}

func healthy() *world {
	return &world{
		version:      "v1.34.4",
		snapshotCRDs: true,
		objects: []runtime.Object{
			csiDriver(DiskCSIDriver), csiDriver(FileCSIDriver),
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "csi-snapshot-controller", Namespace: "kube-system"}},
			node("aks-nodepool1-0", "linux", "4", "8Gi"),
			csiPV("pvc-disk-1", DiskCSIDriver, "managed-csi"),
		},
		snapshotClasses: []runtime.Object{snapshotClass("csi-azuredisk-vsc", DiskCSIDriver)},
		cluster: &ClusterFacts{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks", ResourceGroup: "rg", Name: "aks",
			IdentityType: "SystemAssigned", ServicePrincipalClientID: "msi", OIDCIssuerEnabled: true, WorkloadIdentityEnabled: true, NodeResourceGroup: "MC_rg_aks_eastus"},
	}
}

func (w *world) input(t *testing.T) (Input, *fake.Clientset) {
	t.Helper()
	client := fake.NewClientset(w.objects...)
	disc := client.Discovery().(*fakediscovery.FakeDiscovery)
	disc.FakedServerVersion = &version.Info{GitVersion: w.version}
	if w.snapshotCRDs {
		disc.Resources = append(disc.Resources, &metav1.APIResourceList{GroupVersion: snapshotGroupVersion, APIResources: []metav1.APIResource{
			{Name: "volumesnapshots"}, {Name: "volumesnapshotcontents"}, {Name: "volumesnapshotclasses"}}})
	}
	if w.podIdentity {
		disc.Resources = append(disc.Resources, &metav1.APIResourceList{GroupVersion: podIdentityGroupVersion, APIResources: []metav1.APIResource{
			{Name: "azureidentities"}, {Name: "azurepodidentityexceptions"}}})
	}
	if w.react != nil {
		w.react(client)
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		PodIdentityExceptions: "AzurePodIdentityExceptionList",
	}, w.dynamicObjects...)
	snapshots := snapshotfake.NewSimpleClientset(w.snapshotClasses...)
	if w.reactSnapshots != nil {
		w.reactSnapshots(snapshots)
	}
	return Input{Client: client, Dynamic: dyn, Snapshots: snapshots, APIServerHost: "aks-dns-12345.hcp.eastus.azmk8s.io", Cluster: w.cluster,
		AzureSkipped: w.azureSkipped, Portworx: w.portworx, Providers: w.providers, ProvidersChecked: w.providersChecked}, client
}

func csiDriver(name string) *storagev1.CSIDriver {
	return &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func node(name, os, cpu, mem string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelOSStable: os}},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
}

func csiPV(name, driver, class string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{
		StorageClassName:       class,
		PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: name}},
	}}
}

func inTreePV(name string, disk bool) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{StorageClassName: "default"}}
	if disk {
		pv.Spec.AzureDisk = &corev1.AzureDiskVolumeSource{DiskName: name, DataDiskURI: "/subscriptions/s/disks/" + name}
	} else {
		pv.Spec.AzureFile = &corev1.AzureFilePersistentVolumeSource{SecretName: "azure-secret", ShareName: name}
	}
	return pv
}

func pod(name, nodeName, cpu string, env ...corev1.EnvVar) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "c", Env: env,
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

func snapshotClass(name, driver string) *snapshotv1.VolumeSnapshotClass {
	return &snapshotv1.VolumeSnapshotClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Driver: driver, DeletionPolicy: snapshotv1.VolumeSnapshotContentDelete}
}

func podIdentityException(name string, labels map[string]any) *unstructured.Unstructured {
	spec := map[string]any{}
	if labels != nil {
		spec["podLabels"] = labels
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "aadpodidentity.k8s.io/v1", "kind": "AzurePodIdentityException",
		"metadata": map[string]any{"name": name, "namespace": ExtensionNamespace}, "spec": spec}}
}

func without(objs []runtime.Object, drop func(runtime.Object) bool) []runtime.Object {
	return slices.DeleteFunc(slices.Clone(objs), drop)
}

func ids(fs []findings.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

func check(r *Report, name string) Check {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return Check{}
}

type fakePermissions struct {
	perms []azure.Permission
	err   error
	scope string
}

func (f *fakePermissions) ListPermissions(_ context.Context, scope string) ([]azure.Permission, error) {
	f.scope = scope
	return f.perms, f.err
}

func TestRun(t *testing.T) {
	proxyEnv := func(noProxy string) []corev1.EnvVar {
		return []corev1.EnvVar{{Name: "HTTPS_PROXY", Value: "http://user:pw@proxy.corp:3128"}, {Name: "NO_PROXY", Value: noProxy}}
	}
	allActions, _ := PortworxActions()
	tests := []struct {
		name   string
		change func(*world)
		// want are the finding IDs in rank order; first is the root cause.
		want  []string
		ready bool
		// checks maps a check name to its expected status.
		checks map[string]Status
		// inspect looks at the report further.
		inspect func(*testing.T, *Report)
	}{
		{name: "healthy", change: func(*world) {}, ready: true,
			checks: map[string]Status{"kubernetes-version": StatusOK, "csi-drivers": StatusOK, "volume-snapshots": StatusOK, "persistent-volumes": StatusOK,
				"aad-pod-identity": StatusOK, "scheduling": StatusOK, "proxy": StatusOK, "azure-cluster": StatusOK}},
		{name: "old kubernetes explains the missing drivers and CRDs",
			change: func(w *world) {
				w.version = "v1.21.14"
				w.snapshotCRDs = false
				w.objects = without(w.objects, func(o runtime.Object) bool { _, ok := o.(*storagev1.CSIDriver); return ok })
			},
			want:   []string{"kubernetes-version-unsupported", "csi-disk-driver-missing", "snapshot-crds-missing", "csi-file-driver-missing"},
			checks: map[string]Status{"kubernetes-version": StatusFailed, "csi-drivers": StatusFailed, "volume-snapshots": StatusFailed}},
		{name: "no disk driver explains the missing snapshot class",
			change: func(w *world) {
				w.objects = without(w.objects, func(o runtime.Object) bool { d, ok := o.(*storagev1.CSIDriver); return ok && d.Name == DiskCSIDriver })
				w.snapshotClasses = []runtime.Object{snapshotClass("other", "example.com/csi")}
			},
			want: []string{"csi-disk-driver-missing", "snapshot-class-missing"}},
		{name: "only the file driver missing is a warning",
			change: func(w *world) {
				w.objects = without(w.objects, func(o runtime.Object) bool { d, ok := o.(*storagev1.CSIDriver); return ok && d.Name == FileCSIDriver })
			},
			want: []string{"csi-file-driver-missing"}, ready: true, checks: map[string]Status{"csi-drivers": StatusWarning}},
		{name: "no snapshot controller",
			change: func(w *world) {
				w.objects = without(w.objects, func(o runtime.Object) bool { _, ok := o.(*appsv1.Deployment); return ok })
			},
			want: []string{"snapshot-controller-missing"}, ready: true},
		{name: "every volume class",
			change: func(w *world) {
				w.objects = append(w.objects, inTreePV("pv-intree-disk", true), inTreePV("pv-intree-file", false),
					csiPV("pvc-files", FileCSIDriver, "azurefile-csi"), csiPV("pvc-blob", BlobCSIDriver, "azureblob-fuse"),
					csiPV("pvc-nfs", "nfs.csi.k8s.io", "nfs"), csiPV("pv-static-disk", DiskCSIDriver, ""))
			},
			want: []string{"pv-in-tree-unsupported", "pv-azure-blob-not-covered", "pv-azure-files-not-covered", "pv-disk-no-storage-class", "pv-unknown-driver"},
			inspect: func(t *testing.T, r *Report) {
				got := map[VolumeClass]int{}
				for _, c := range r.Volumes.Classes {
					got[c.Class] = c.Count
				}
				want := map[VolumeClass]int{ClassCSIAzureDisk: 2, ClassInTreeAzureDisk: 1, ClassInTreeAzureFile: 1, ClassCSIAzureFile: 1, ClassCSIAzureBlob: 1, ClassOther: 1}
				if r.Volumes.Total != 7 || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("inventory %d %v, want 7 %v", r.Volumes.Total, got, want)
				}
				if !strings.Contains(r.Findings[0].Message, "pv-intree-disk") || !strings.Contains(r.Findings[0].Message, "(1 disk, 1 file)") {
					t.Errorf("in-tree finding: %q", r.Findings[0].Message)
				}
			}},
		{name: "pod identity without an exception",
			change: func(w *world) { w.podIdentity = true },
			want:   []string{"pod-identity-exception-missing"}, checks: map[string]Status{"aad-pod-identity": StatusFailed},
			inspect: func(t *testing.T, r *Report) {
				if fix := r.Findings[0].Remediation[0]; !strings.Contains(fix, `"kind":"AzurePodIdentityException"`) || !strings.Contains(fix, `"namespace":"dataprotection-microsoft"`) {
					t.Errorf("fix does not create the exception: %s", fix)
				}
			}},
		{name: "pod identity with an exception that has no pod labels",
			change: func(w *world) {
				w.podIdentity = true
				w.dynamicObjects = append(w.dynamicObjects, podIdentityException("empty", nil))
			},
			want: []string{"pod-identity-exception-missing"}},
		{name: "pod identity with an exception",
			change: func(w *world) {
				w.podIdentity = true
				w.dynamicObjects = append(w.dynamicObjects, podIdentityException("aks-backup", map[string]any{"app.kubernetes.io/instance": "azure-aks-backup"}))
			},
			ready: true, checks: map[string]Status{"aad-pod-identity": StatusOK}},
		{name: "only windows and tainted nodes",
			change: func(w *world) {
				w.objects = without(w.objects, func(o runtime.Object) bool { _, ok := o.(*corev1.Node); return ok })
				w.objects = append(w.objects, node("akswin000000", "windows", "4", "8Gi"),
					node("aks-system-0", "linux", "4", "8Gi", corev1.Taint{Key: "CriticalAddonsOnly", Value: "true", Effect: corev1.TaintEffectNoSchedule}))
			},
			want: []string{"no-linux-node-schedulable"},
			inspect: func(t *testing.T, r *Report) {
				for _, want := range []string{"1 not Linux (akswin000000)", "1 taint CriticalAddonsOnly:NoSchedule (aks-system-0)"} {
					if !strings.Contains(r.Findings[0].Message, want) {
						t.Errorf("message lacks %q: %s", want, r.Findings[0].Message)
					}
				}
			}},
		{name: "a full node",
			change: func(w *world) {
				w.objects = append(w.objects, pod("big", "aks-nodepool1-0", "3800m"), pod("done", "aks-nodepool1-0", "3"))
				w.objects[len(w.objects)-1].(*corev1.Pod).Status.Phase = corev1.PodSucceeded
			},
			want: []string{"node-capacity-insufficient"},
			inspect: func(t *testing.T, r *Report) {
				if !strings.Contains(r.Findings[0].Message, "aks-nodepool1-0 with 200m CPU") {
					t.Errorf("message: %s", r.Findings[0].Message)
				}
			}},
		{name: "proxy with an incomplete NO_PROXY",
			change: func(w *world) {
				w.objects = append(w.objects, pod("app", "aks-nodepool1-0", "10m", proxyEnv("localhost,.cluster.local,10.0.0.0/16")...))
			},
			want: []string{"proxy-no-proxy-incomplete"},
			inspect: func(t *testing.T, r *Report) {
				f := r.Findings[0]
				if f.Object != "pod/default/app" || f.Message != "NO_PROXY lacks .svc, 169.254.169.254, 168.63.129.16, aks-dns-12345.hcp.eastus.azmk8s.io" {
					t.Errorf("finding %s: %s", f.Object, f.Message)
				}
				if strings.Contains(fmt.Sprint(r), "user:pw") {
					t.Error("the report carries the proxy URL's credentials")
				}
			}},
		{name: "proxy with a complete NO_PROXY",
			change: func(w *world) {
				w.objects = append(w.objects, pod("app", "aks-nodepool1-0", "10m", proxyEnv(".svc,.cluster.local,169.254.169.254,168.63.129.16,.azmk8s.io")...))
			},
			ready: true, checks: map[string]Status{"proxy": StatusOK}},
		{name: "ARM proxy config without the cluster domains",
			change: func(w *world) {
				w.cluster.HTTPProxy = &ProxyConfig{HTTPSProxy: "http://proxy.corp:3128", NoProxy: []string{".svc"}}
			},
			want: []string{"proxy-no-proxy-incomplete"},
			inspect: func(t *testing.T, r *Report) {
				if f := r.Findings[0]; f.Object != "cluster/httpProxyConfig" || f.Message != "NO_PROXY lacks .cluster.local" ||
					!strings.Contains(f.Remediation[0], `"noProxy": [".svc",".cluster.local"]`) || !strings.Contains(f.Remediation[0], "--resource-group rg --name aks") {
					t.Errorf("finding %+v", f)
				}
			}},
		{name: "service principal cluster without OIDC or workload identity",
			change: func(w *world) {
				w.cluster.IdentityType, w.cluster.ServicePrincipalClientID = "", "11111111-2222-3333-4444-555555555555"
				w.cluster.OIDCIssuerEnabled, w.cluster.WorkloadIdentityEnabled = false, false
			},
			want: []string{"cluster-identity-unsupported", "oidc-issuer-disabled", "workload-identity-disabled"},
			inspect: func(t *testing.T, r *Report) {
				if fix := r.Findings[0].Remediation[0]; fix != "az aks update --resource-group rg --name aks --enable-managed-identity" {
					t.Errorf("fix %q", fix)
				}
			}},
		{name: "an unregistered resource provider",
			change: func(w *world) {
				w.providersChecked = true
				w.providers = []findings.Finding{catalog.ResourceProviderNotRegistered.New("/subscriptions/s/providers/Microsoft.DataProtection", "NotRegistered",
					"az provider register --namespace Microsoft.DataProtection --subscription s")}
			},
			want: []string{"resource-provider-not-registered"}, checks: map[string]Status{"resource-providers": StatusFailed}},
		{name: "registered resource providers",
			change: func(w *world) { w.providersChecked = true },
			ready:  true, checks: map[string]Status{"resource-providers": StatusOK}},
		{name: "azure skipped",
			change: func(w *world) { w.cluster, w.azureSkipped = nil, "no AKS cluster to check in Azure" },
			want:   []string{"azure-checks-skipped"}, ready: true, checks: map[string]Status{"azure-cluster": StatusSkipped}},
		{name: "portworx actions missing",
			change: func(w *world) {
				w.portworx = &PortworxInput{Scope: "/subscriptions/s/resourceGroups/MC_rg_aks_eastus", Identity: "the caller",
					Permissions: &fakePermissions{perms: []azure.Permission{{Actions: []string{"Microsoft.Compute/*/read", "Microsoft.ContainerService/managedClusters/agentPools/read"}}}}}
			},
			want: []string{"portworx-permission-missing"},
			inspect: func(t *testing.T, r *Report) {
				f := r.Findings[0]
				if !strings.Contains(f.Message, "Microsoft.Compute/disks/delete, Microsoft.Compute/disks/write, Microsoft.Compute/virtualMachines/write") ||
					strings.Contains(f.Message, "disks/read") || !strings.Contains(f.Message, allActions.Source) {
					t.Errorf("message %s", f.Message)
				}
				if len(f.Remediation) != 2 || !strings.Contains(f.Remediation[1], "--scope /subscriptions/s/resourceGroups/MC_rg_aks_eastus") {
					t.Errorf("fix %q", f.Remediation)
				}
			}},
		{name: "portworx actions granted by a wildcard, minus nothing needed",
			change: func(w *world) {
				w.portworx = &PortworxInput{Scope: "/subscriptions/s/resourceGroups/MC", Identity: "the caller",
					Permissions: &fakePermissions{perms: []azure.Permission{{Actions: []string{"*"}, NotActions: []string{"Microsoft.Authorization/*/Write"}}}}}
			},
			ready: true, checks: map[string]Status{"portworx-permissions": StatusOK}},
		{name: "portworx permissions unreadable",
			change: func(w *world) {
				w.portworx = &PortworxInput{Scope: "/subscriptions/s/resourceGroups/MC", Identity: "the caller", Permissions: &fakePermissions{err: errors.New("403 AuthorizationFailed")}}
			},
			want: []string{"azure-read-failed"}, ready: true, checks: map[string]Status{"portworx-permissions": StatusSkipped}},
		{name: "forbidden VolumeSnapshotClasses are named and skipped",
			change: func(w *world) {
				w.reactSnapshots = func(c *snapshotfake.Clientset) {
					c.PrependReactor("list", "volumesnapshotclasses", func(k8stesting.Action) (bool, runtime.Object, error) {
						return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "snapshot.storage.k8s.io", Resource: "volumesnapshotclasses"}, "", errors.New("RBAC"))
					})
				}
			},
			want: []string{"preflight-read-skipped"}, ready: true, checks: map[string]Status{"volume-snapshots": StatusSkipped},
			inspect: func(t *testing.T, r *Report) {
				if fix := r.Findings[0].Remediation[0]; !strings.HasPrefix(fix, "kubectl auth can-i list volumesnapshotclasses.snapshot.storage.k8s.io") {
					t.Errorf("fix %q", fix)
				}
			}},
		{name: "forbidden reads are named and skipped",
			change: func(w *world) {
				w.react = func(c *fake.Clientset) {
					for _, res := range []string{"persistentvolumes", "nodes"} {
						c.PrependReactor("list", res, func(k8stesting.Action) (bool, runtime.Object, error) {
							return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: res}, "", errors.New("RBAC"))
						})
					}
				}
			},
			want: []string{"preflight-read-skipped", "preflight-read-skipped"}, ready: true,
			checks: map[string]Status{"persistent-volumes": StatusSkipped, "scheduling": StatusSkipped, "proxy": StatusSkipped, "csi-drivers": StatusOK},
			inspect: func(t *testing.T, r *Report) {
				if fix := r.Findings[0].Remediation[0]; !strings.HasPrefix(fix, "kubectl auth can-i list nodes") && !strings.HasPrefix(fix, "kubectl auth can-i list persistentvolumes") {
					t.Errorf("fix %q", fix)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := healthy()
			tc.change(w)
			in, _ := w.input(t)
			r, err := Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(r.Findings); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("findings %v, want %v", got, tc.want)
			}
			if r.Ready != tc.ready {
				t.Errorf("ready %v, want %v", r.Ready, tc.ready)
			}
			for name, want := range tc.checks {
				if got := check(r, name).Status; got != want {
					t.Errorf("check %s: %q, want %q (%+v)", name, got, want, r.Checks)
				}
			}
			for _, f := range r.Findings {
				if f.Severity != findings.SeverityInfo && len(f.Remediation) == 0 && f.ID != "azure-read-failed" && f.ID != "azure-checks-skipped" {
					t.Errorf("%s has no fix", f.ID)
				}
			}
			if tc.inspect != nil && len(r.Findings) > 0 || tc.inspect != nil && tc.want == nil {
				tc.inspect(t, r)
			}
		})
	}
}

// Other read failures stop the run (exit 3 in the command), naming what was read.
func TestRunReturnsReadErrors(t *testing.T) {
	w := healthy()
	w.react = func(c *fake.Clientset) {
		c.PrependReactor("list", "persistentvolumes", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewServiceUnavailable("etcd is down")
		})
	}
	in, _ := w.input(t)
	if _, err := Run(context.Background(), in); err == nil || !strings.Contains(err.Error(), "list PersistentVolumes") {
		t.Fatalf("error %v", err)
	}
}

// The inventory reads page by page with Limit and Continue and keeps only a bounded sample.
func TestVolumesArePaged(t *testing.T) {
	const total, pageSize = 23, 5
	w := healthy()
	var limits []int64
	w.react = func(c *fake.Clientset) {
		c.PrependReactor("list", "persistentvolumes", func(a k8stesting.Action) (bool, runtime.Object, error) {
			opts := a.(k8stesting.ListActionImpl).ListOptions
			limits = append(limits, opts.Limit)
			start := 0
			if opts.Continue != "" {
				fmt.Sscanf(opts.Continue, "from-%d", &start)
			}
			list := &corev1.PersistentVolumeList{}
			for i := start; i < min(start+int(opts.Limit), total); i++ {
				driver := DiskCSIDriver
				if i%2 == 1 {
					driver = FileCSIDriver
				}
				list.Items = append(list.Items, *csiPV(fmt.Sprintf("pv-%02d", i), driver, "sc"))
			}
			if start+int(opts.Limit) < total {
				list.Continue = fmt.Sprintf("from-%d", start+int(opts.Limit))
			}
			return true, list, nil
		})
	}
	in, _ := w.input(t)
	in.PageSize = pageSize
	r, err := Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Volumes.Pages != 5 || len(limits) != 5 || slices.ContainsFunc(limits, func(l int64) bool { return l != pageSize }) {
		t.Errorf("pages %d, limits %v", r.Volumes.Pages, limits)
	}
	for _, c := range r.Volumes.Classes {
		if len(c.Examples) > DefaultSamples {
			t.Errorf("%s keeps %d names", c.Class, len(c.Examples))
		}
		if c.Class == ClassCSIAzureFile && (c.Count != 11 || c.Examples[0] != "pv-01") {
			t.Errorf("file class %+v", c)
		}
	}
	if r.Volumes.Total != total {
		t.Errorf("total %d", r.Volumes.Total)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		pv   *corev1.PersistentVolume
		want VolumeClass
	}{
		{csiPV("a", DiskCSIDriver, "x"), ClassCSIAzureDisk},
		{csiPV("a", "Disk.CSI.Azure.com", "x"), ClassCSIAzureDisk},
		{csiPV("a", FileCSIDriver, "x"), ClassCSIAzureFile},
		{csiPV("a", BlobCSIDriver, "x"), ClassCSIAzureBlob},
		{csiPV("a", "ebs.csi.aws.com", "x"), ClassOther},
		{inTreePV("a", true), ClassInTreeAzureDisk},
		{inTreePV("a", false), ClassInTreeAzureFile},
		{&corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}}}, ClassOther},
	}
	for _, tc := range tests {
		if got := Classify(tc.pv); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.pv.Spec.PersistentVolumeSource, got, tc.want)
		}
	}
}

func TestMissingNoProxy(t *testing.T) {
	tests := []struct {
		noProxy string
		target  string
		covered bool
	}{
		{".svc", ".svc", true},
		{"svc", ".svc", true},
		{"cluster.local", ".cluster.local", true},
		{".local", ".cluster.local", true},
		{"kubernetes.default.svc", ".svc", false},
		{"*", ".svc", true},
		{".azmk8s.io", "aks-dns.hcp.eastus.azmk8s.io", true},
		{"azmk8s.io", "aks-dns.hcp.eastus.azmk8s.io", true},
		{"aks-dns.hcp.eastus.azmk8s.io:443", "aks-dns.hcp.eastus.azmk8s.io", true},
		{"eastus.azmk8s.io.evil", "aks-dns.hcp.eastus.azmk8s.io", false},
		{"169.254.0.0/16", "169.254.169.254", true},
		{"10.0.0.0/8", "169.254.169.254", false},
		{"169.254.169.254", "169.254.169.254", true},
		{" 168.63.129.16 ", "168.63.129.16", true},
		{"", ".svc", false},
		{".", ".svc", false},
	}
	for _, tc := range tests {
		missing := MissingNoProxy(SplitNoProxy(tc.noProxy), []string{tc.target})
		if covered := len(missing) == 0; covered != tc.covered {
			t.Errorf("NO_PROXY %q covers %q: %v, want %v", tc.noProxy, tc.target, covered, tc.covered)
		}
	}
}

func TestPortworxActionsFile(t *testing.T) {
	req, err := PortworxActions()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(req.Source, "https://docs.portworx.com/") || len(req.Actions) < 5 {
		t.Errorf("unexpected data file: %+v", req)
	}
	for _, a := range req.Actions {
		if strings.Count(a, "/") < 2 || !strings.HasPrefix(a, "Microsoft.") {
			t.Errorf("not an ARM action: %q", a)
		}
	}
}

// The text report leads with the verdict and the first root cause, lists the classes, and ends
// with the fixes.
func TestWriteText(t *testing.T) {
	w := healthy()
	w.objects = append(w.objects, inTreePV("pv-old", true))
	in, _ := w.input(t)
	r, err := Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteText(&b, r, findings.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"NOT READY: first fix pv-in-tree-unsupported (1 error, 0 warnings)", "CHECK", "persistent-volumes", "PERSISTENT VOLUMES: 2",
		"in-tree-azure-disk", "unsupported: migrate to CSI first", "pv-old", "fix: migrate them to the CSI drivers"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
