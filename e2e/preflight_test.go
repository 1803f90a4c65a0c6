package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/azurelab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

// preflightDoc is the part of `preflight -o json` the tests read.
type preflightDoc struct {
	Kind              string `json:"kind"`
	Ready             bool   `json:"ready"`
	KubernetesVersion string `json:"kubernetesVersion"`
	Requests          struct {
		Kubernetes int `json:"kubernetes"`
	} `json:"requests"`
	Checks []struct {
		Name, Status, Detail string
	} `json:"checks"`
	Volumes struct {
		Total   int `json:"total"`
		Classes []struct {
			Class    string   `json:"class"`
			Count    int      `json:"count"`
			Examples []string `json:"examples"`
		} `json:"classes"`
	} `json:"volumes"`
	Findings []struct {
		ID          string   `json:"id"`
		Object      string   `json:"object"`
		Message     string   `json:"message"`
		Remediation []string `json:"remediation"`
	} `json:"findings"`
}

func (d preflightDoc) has(id string) bool {
	for _, f := range d.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

func (d preflightDoc) check(name string) string {
	for _, c := range d.Checks {
		if c.Name == name {
			return c.Status
		}
	}
	return ""
}

func (d preflightDoc) ids() []string {
	var out []string
	for _, f := range d.Findings {
		out = append(out, f.ID)
	}
	return out
}

// TestPreflight builds up, on the lab, a cluster that AKS Backup can use: CSI drivers, volumes of
// every class, a schedulable Linux node, the snapshot CRDs and class, AAD Pod Identity with and without
// its exception, a proxied pod; and shows preflight's classification and findings at each step.
func TestPreflight(t *testing.T) {
	lab := labtest.Load(t)
	client := lab.Clientset(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", lab.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cfg)
	ext := apiextensionsclient.NewForConfigOrDie(cfg)
	ctx := context.Background()

	preflight := func(t *testing.T, extra ...string) (preflightDoc, result) {
		t.Helper()
		r := aksbackup(t, lab, append([]string{"preflight", "--no-azure", "-o", "json"}, extra...)...)
		var doc preflightDoc
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r)
		}
		t.Logf("findings %v", doc.ids())
		return doc, r
	}

	// Volumes already in the lab (a benchmark's, still being deleted) are counted apart: wait for a
	// benchmark's to go, then take the rest as a baseline.
	if err := wait.PollUntilContextTimeout(ctx, 2*time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		left, err := client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: "aksbackup.lab/pvgen", Limit: 1})
		return err == nil && len(left.Items) == 0, nil
	}); err != nil {
		t.Fatalf("the benchmark's volumes are still in the lab: %v", err)
	}
	baseline, _ := preflight(t)
	before := map[string]int{}
	for _, c := range baseline.Volumes.Classes {
		before[c.Class] = c.Count
	}

	for _, d := range []string{"disk.csi.azure.com", "file.csi.azure.com"} {
		create(t, func() error {
			_, err := client.StorageV1().CSIDrivers().Create(ctx, &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: d}}, metav1.CreateOptions{})
			return err
		}, func() { _ = client.StorageV1().CSIDrivers().Delete(ctx, d, metav1.DeleteOptions{}) })
	}
	// The lab's own node carries kwok's NoSchedule taint, which the extension would not tolerate; a
	// second simulated node without it is where the extension's pods could run.
	addSchedulableNode(t, client, "e2e-preflight-node")
	pvs := map[string]*corev1.PersistentVolume{
		"e2e-preflight-disk":        preflightPV("e2e-preflight-disk", "managed-csi", func(s *corev1.PersistentVolumeSource) { s.CSI = csiSource("disk.csi.azure.com") }),
		"e2e-preflight-static-disk": preflightPV("e2e-preflight-static-disk", "", func(s *corev1.PersistentVolumeSource) { s.CSI = csiSource("disk.csi.azure.com") }),
		"e2e-preflight-intree-disk": preflightPV("e2e-preflight-intree-disk", "default", func(s *corev1.PersistentVolumeSource) {
			s.AzureDisk = &corev1.AzureDiskVolumeSource{DiskName: "d1", DataDiskURI: "/subscriptions/s/resourceGroups/mc/providers/Microsoft.Compute/disks/d1", Kind: ptr.To(corev1.AzureManagedDisk)}
		}),
		"e2e-preflight-intree-file": preflightPV("e2e-preflight-intree-file", "azurefile", func(s *corev1.PersistentVolumeSource) {
			s.AzureFile = &corev1.AzureFilePersistentVolumeSource{SecretName: "azure-storage", ShareName: "share1"}
		}),
		"e2e-preflight-files": preflightPV("e2e-preflight-files", "azurefile-csi", func(s *corev1.PersistentVolumeSource) { s.CSI = csiSource("file.csi.azure.com") }),
		"e2e-preflight-blob":  preflightPV("e2e-preflight-blob", "azureblob-fuse-premium", func(s *corev1.PersistentVolumeSource) { s.CSI = csiSource("blob.csi.azure.com") }),
		"e2e-preflight-nfs":   preflightPV("e2e-preflight-nfs", "nfs", func(s *corev1.PersistentVolumeSource) { s.CSI = csiSource("nfs.csi.k8s.io") }),
	}
	for name, pv := range pvs {
		create(t, func() error {
			_, err := client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
			return err
		},
			func() { _ = client.CoreV1().PersistentVolumes().Delete(ctx, name, metav1.DeleteOptions{}) })
	}

	t.Run("volumes are classed and the missing snapshot CRDs lead", func(t *testing.T) {
		doc, r := preflight(t)
		if r.code != 1 || doc.Kind != "Preflight" || doc.Ready {
			t.Fatalf("want exit 1, not ready:\n%s", r)
		}
		want := map[string]int{"csi-azure-disk": 2, "in-tree-azure-disk": 1, "in-tree-azure-file": 1, "csi-azure-file": 1, "csi-azure-blob": 1, "other": 1}
		for _, c := range doc.Volumes.Classes {
			if c.Count-before[c.Class] != want[c.Class] {
				t.Errorf("class %s: %d volumes (%v), %d before, want %d more", c.Class, c.Count, c.Examples, before[c.Class], want[c.Class])
			}
		}
		for _, id := range []string{"snapshot-crds-missing", "pv-in-tree-unsupported", "pv-azure-files-not-covered", "pv-azure-blob-not-covered", "pv-unknown-driver", "pv-disk-no-storage-class"} {
			if !doc.has(id) {
				t.Errorf("no %s in %v", id, doc.ids())
			}
		}
		for _, id := range []string{"csi-disk-driver-missing", "csi-file-driver-missing", "kubernetes-version-unsupported", "no-linux-node-schedulable", "snapshot-class-missing"} {
			if doc.has(id) {
				t.Errorf("unexpected %s", id)
			}
		}
		if doc.check("scheduling") != "ok" || doc.check("csi-drivers") != "ok" || doc.check("kubernetes-version") != "ok" || doc.Requests.Kubernetes == 0 {
			t.Errorf("checks %+v, %d requests", doc.Checks, doc.Requests.Kubernetes)
		}
	})

	t.Run("the text report lists every class with examples and the fixes", func(t *testing.T) {
		r := aksbackup(t, lab, "preflight", "--no-azure")
		wants := []string{fmt.Sprintf("PERSISTENT VOLUMES: %d", baseline.Volumes.Total+7)}
		if baseline.Volumes.Total == 0 { // otherwise other volumes' names may come first
			wants = append(wants, "e2e-preflight-intree-disk")
		}
		for _, want := range append(wants, "NOT READY: first fix ", "in-tree-azure-disk",
			"csi-azure-blob", "not covered: use another Azure Backup option", "az aks update --resource-group <resource-group> --name <cluster-name> --enable-snapshot-controller",
			"migrate them to the CSI drivers") {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("text lacks %q:\n%s", want, r)
			}
		}
		if !strings.Contains(r.stderr, "Kubernetes and 0 ARM requests") {
			t.Errorf("no request count on stderr:\n%s", r)
		}
	})

	t.Run("with the snapshot CRDs and a disk VolumeSnapshotClass the snapshot findings go", func(t *testing.T) {
		for _, plural := range []string{"volumesnapshots", "volumesnapshotcontents", "volumesnapshotclasses"} {
			scope := apiextensionsv1.NamespaceScoped
			if plural != "volumesnapshots" {
				scope = apiextensionsv1.ClusterScoped
			}
			installCRD(t, ext, "snapshot.storage.k8s.io", plural, scope)
		}
		doc, _ := preflight(t)
		if !doc.has("snapshot-class-missing") || doc.has("snapshot-crds-missing") || !doc.has("snapshot-controller-missing") {
			t.Fatalf("before the class: %v", doc.ids())
		}
		vsc := schema.GroupVersionResource{Group: "snapshot.storage.k8s.io", Version: "v1", Resource: "volumesnapshotclasses"}
		create(t, func() error {
			_, err := dyn.Resource(vsc).Create(ctx, &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": map[string]any{"name": "csi-azuredisk-vsc"},
				"driver": "disk.csi.azure.com", "deletionPolicy": "Delete"}}, metav1.CreateOptions{})
			return err
		}, func() { _ = dyn.Resource(vsc).Delete(ctx, "csi-azuredisk-vsc", metav1.DeleteOptions{}) })
		create(t, func() error {
			_, err := client.AppsV1().Deployments("kube-system").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "csi-snapshot-controller"},
				Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "csi-snapshot-controller"}},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "csi-snapshot-controller"}},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "snapshot-controller"}}}}}}, metav1.CreateOptions{})
			return err
		}, func() {
			_ = client.AppsV1().Deployments("kube-system").Delete(ctx, "csi-snapshot-controller", metav1.DeleteOptions{})
		})
		doc, _ = preflight(t)
		for _, id := range []string{"snapshot-class-missing", "snapshot-crds-missing", "snapshot-controller-missing"} {
			if doc.has(id) {
				t.Errorf("still %s: %v", id, doc.ids())
			}
		}
		if doc.check("volume-snapshots") != "ok" {
			t.Errorf("volume-snapshots check: %+v", doc.Checks)
		}
	})

	t.Run("AAD Pod Identity needs an AzurePodIdentityException in dataprotection-microsoft", func(t *testing.T) {
		installCRD(t, ext, "aadpodidentity.k8s.io", "azurepodidentityexceptions", apiextensionsv1.NamespaceScoped)
		doc, _ := preflight(t)
		if !doc.has("pod-identity-exception-missing") {
			t.Fatalf("no pod-identity-exception-missing: %v", doc.ids())
		}
		ns := "dataprotection-microsoft"
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err == nil {
			t.Cleanup(func() { _ = client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}) })
		} else if !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		// A namespace label is not the documented mechanism: it changes nothing.
		if _, err := client.CoreV1().Namespaces().Patch(ctx, ns, "application/merge-patch+json", []byte(`{"metadata":{"labels":{"aadpodidentity.k8s.io/exception":"true"}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if doc, _ = preflight(t); !doc.has("pod-identity-exception-missing") {
			t.Fatalf("a namespace label satisfied the check: %v", doc.ids())
		}
		exc := schema.GroupVersionResource{Group: "aadpodidentity.k8s.io", Version: "v1", Resource: "azurepodidentityexceptions"}
		create(t, func() error {
			_, err := dyn.Resource(exc).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "aadpodidentity.k8s.io/v1", "kind": "AzurePodIdentityException", "metadata": map[string]any{"name": "aks-backup-exception"},
				"spec": map[string]any{"podLabels": map[string]any{"app.kubernetes.io/instance": "azure-aks-backup"}}}}, metav1.CreateOptions{})
			return err
		}, func() {
			_ = dyn.Resource(exc).Namespace(ns).Delete(ctx, "aks-backup-exception", metav1.DeleteOptions{})
		})
		if doc, _ = preflight(t); doc.has("pod-identity-exception-missing") || doc.check("aad-pod-identity") != "ok" {
			t.Fatalf("with the exception: %v %+v", doc.ids(), doc.Checks)
		}
	})

	t.Run("a proxied pod whose NO_PROXY misses the cluster's names", func(t *testing.T) {
		ns := "e2e-preflight-proxy"
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}) })
		if _, err := client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "proxied"},
			Spec: corev1.PodSpec{NodeName: "e2e-preflight-node", Containers: []corev1.Container{{Name: "c", Image: "app",
				Env: []corev1.EnvVar{{Name: "HTTPS_PROXY", Value: "http://proxy.corp.example:3128"}, {Name: "NO_PROXY", Value: "localhost,.cluster.local"}}}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		doc, _ := preflight(t)
		var msg string
		for _, f := range doc.Findings {
			if f.ID == "proxy-no-proxy-incomplete" && f.Object == "pod/"+ns+"/proxied" {
				msg = f.Message
			}
		}
		if msg != "NO_PROXY lacks .svc, 169.254.169.254, 168.63.129.16, 127.0.0.1" {
			t.Fatalf("proxy finding %q in %v", msg, doc.ids())
		}
	})

	t.Run("a user who may not list volumes or nodes gets the rest, with the skipped reads named", func(t *testing.T) {
		ns := lab.NewFixtureNamespace(t, "preflight")
		user := lab.CreateLimitedUser(t, ns)
		doc, r := preflight(t, "--as", user)
		if r.code == 3 || r.code == 2 || !doc.has("preflight-read-skipped") || doc.check("persistent-volumes") != "skipped" || doc.check("kubernetes-version") != "ok" {
			t.Fatalf("limited user:\n%s", r)
		}
	})

	t.Run("with the AKS cluster known, its identity and flags are read from ARM", func(t *testing.T) {
		lab.AzureScenario(t, "unwired", "dataprotection-microsoft")
		r := kubectlEnv(t, lab, lab.AzureEnv(t), "aksbackup", "preflight", "--cluster-id", azurelab.ClusterID, "-o", "json")
		var doc preflightDoc
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r)
		}
		if doc.check("azure-cluster") != "ok" || doc.has("cluster-identity-unsupported") || doc.has("azure-checks-skipped") {
			t.Fatalf("azure-cluster: %+v %v\n%s", doc.Checks, doc.ids(), r)
		}
		if strings.Contains(r.stdout+r.stderr, lab.AdminSecret(t)) {
			t.Fatal("the admin secret reached the output")
		}
	})
}

// create runs fn and registers undo, failing on any error but AlreadyExists.
func create(t *testing.T, fn func() error, undo func()) {
	t.Helper()
	if err := fn(); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(undo)
}

func csiSource(driver string) *corev1.CSIPersistentVolumeSource {
	return &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: "h-" + driver}
}

func preflightPV(name, class string, source func(*corev1.PersistentVolumeSource)) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PersistentVolumeSpec{
		Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
		StorageClassName:              class,
	}}
	source(&pv.Spec.PersistentVolumeSource)
	return pv
}

// addSchedulableNode adds a kwok-managed Linux node without taints and waits until it is Ready.
func addSchedulableNode(t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	ctx := context.Background()
	create(t, func() error {
		_, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
				Labels: map[string]string{"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
			Status: corev1.NodeStatus{
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")},
				Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")},
			}}, metav1.CreateOptions{})
		return err
	}, func() { _ = client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}) })
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue && len(n.Spec.Taints) == 0 {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("node %s did not become Ready without taints: %v", name, err)
	}
}

// installCRD serves group/v1 plural with any content, and removes it afterwards.
func installCRD(t *testing.T, ext apiextensionsclient.Interface, group, plural string, scope apiextensionsv1.ResourceScope) {
	t.Helper()
	ctx := context.Background()
	kind := map[string]string{"volumesnapshots": "VolumeSnapshot", "volumesnapshotcontents": "VolumeSnapshotContent",
		"volumesnapshotclasses": "VolumeSnapshotClass", "azurepodidentityexceptions": "AzurePodIdentityException"}[plural]
	name := plural + "." + group
	create(t, func() error {
		_, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &apiextensionsv1.CustomResourceDefinition{
			// *.k8s.io groups are protected; the real CRDs carry the approval of their API review.
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"api-approved.kubernetes.io": "https://github.com/kubernetes-csi/external-snapshotter/pull/419"}},
			Spec: apiextensionsv1.CustomResourceDefinitionSpec{Group: group, Scope: scope,
				Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Kind: kind, ListKind: kind + "List"},
				Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
					Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptr.To(true)}}}}},
		}, metav1.CreateOptions{})
		return err
	}, func() {
		_ = ext.ApiextensionsV1().CustomResourceDefinitions().Delete(ctx, name, metav1.DeleteOptions{})
	})
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		crd, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatal(fmt.Errorf("CRD %s not established: %w", name, err))
	}
}
