package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact/redacttest"
)

const ns = "velero"

// plantedCluster returns a cluster whose objects and logs carry a secret in each of redacttest's
// forms, and the secrets that must not reach the archive.
func plantedCluster(t *testing.T) (Source, []string) {
	t.Helper()
	var secrets []string
	var logText strings.Builder
	for form := range uint8(redacttest.Forms) {
		p := redacttest.Plant(form, []byte(fmt.Sprintf("bundle-seed-%d", form)))
		secrets = append(secrets, p.Secrets...)
		logText.WriteString(`level=error msg="validation failed" ` + p.Text + "\n")
	}
	envSecret := "pl4inV4lue-n0-sh4pe-at-all"
	annotationSAS := "sig=abcdEFGH1234abcdEFGH1234abcdEFGH1234abcd%3D"
	secrets = append(secrets, envSecret, "abcdEFGH1234abcdEFGH1234abcdEFGH1234abcd")
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAq7BFUpkGp3+LQmlQYhCNvfPEMkAbVTy9c3uK2gS3\nAnotherLineOfKeyMaterialZZZZZZZZZZZZZZZZ\n-----END RSA PRIVATE KEY-----\n"
	logText.WriteString(pem)
	secrets = append(secrets, "MIIEpAIBAAKCAQEAq7BFUpkGp3+LQmlQYhCNvfPEMkAbVTy9c3uK2gS3", "AnotherLineOfKeyMaterialZZZZZZZZZZZZZZZZ")

	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "velero"}},
		Spec: corev1.PodSpec{ServiceAccountName: "velero", Containers: []corev1.Container{{
			Name: "velero",
			Env:  []corev1.EnvVar{{Name: "AZURE_CLIENT_SECRET", Value: envSecret}, {Name: "AZURE_CLIENT_ID", Value: "00000000-0000-0000-0000-0000000000aa"}},
		}}},
	}
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: ns,
		Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"env":[{"name":"AZURE_CLIENT_SECRET","value":"` + envSecret + `"}]}`}},
		Spec: appsv1.DeploymentSpec{Template: template}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "velero-5d9c7-x2x8p", Namespace: ns,
		Annotations:     map[string]string{"example.com/url": "https://acct.blob.core.windows.net/velero?sv=2021&" + annotationSAS},
		OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "velero-5d9c7"}}}, Spec: template.Spec}
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "unrelated", Namespace: ns}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x"}}}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: ns,
		Annotations: map[string]string{"azure.workload.identity/client-id": "00000000-0000-0000-0000-0000000000aa"}}}
	event := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "velero.1", Namespace: ns},
		Message: "Back-off pulling image; Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"}
	secrets = append(secrets, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl")
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cloud-credentials", Namespace: ns},
		Data: map[string][]byte{"cloud": []byte("AZURE_CLIENT_SECRET=never-read-this-value")}}
	secrets = append(secrets, "never-read-this-value")

	client := fake.NewClientset(deploy, pod, other, sa, event, secret)
	client.PrependReactor("*", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		t.Errorf("the bundle read a Secret: %s %s", a.GetVerb(), a.GetResource().Resource)
		return true, nil, errors.New("secrets are off limits")
	})
	bslObj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
		"metadata": map[string]any{"name": "default", "namespace": ns},
		"spec": map[string]any{"provider": "azure", "objectStorage": map[string]any{"bucket": "velero"},
			"config": map[string]any{"storageAccount": "acct", "storageAccountKey": "S3cr3tK3yV4lu3"}},
	}}
	secrets = append(secrets, "S3cr3tK3yV4lu3")
	scheme := runtime.NewScheme()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme,
		map[schema.GroupVersionResource]string{bslResource: "BackupStorageLocationList"}, bslObj)
	logs := func(_ context.Context, namespace, podName, container string, _ time.Duration) (io.ReadCloser, error) {
		if podName != pod.Name {
			t.Errorf("read the logs of %s, which no workload of the profile owns", podName)
		}
		return io.NopCloser(strings.NewReader(logText.String())), nil
	}
	return Source{Client: client, Dynamic: dyn, Namespace: ns, Workloads: []string{"velero"}, Logs: logs,
		LogSince: time.Hour, LogBytes: 1 << 20}, secrets
}

func readArchive(t *testing.T, data []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = string(b)
	}
}

func TestBundleHoldsNoPlantedSecret(t *testing.T) {
	src, secrets := plantedCluster(t)
	var buf bytes.Buffer
	a := NewArchive(&buf, time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC))
	a.SetHeader(map[string]string{"version": "test"}, ns)
	if err := a.AddJSON("reports/identity-status.json", "status", map[string]any{"message": "token=" + secrets[0]}); err != nil {
		t.Fatal(err)
	}
	if err := Collect(context.Background(), a, src); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	files := readArchive(t, buf.Bytes())
	for _, want := range []string{"objects/backupstoragelocations.yaml", "objects/serviceaccounts.yaml", "objects/deployments.yaml",
		"objects/daemonsets.yaml", "objects/statefulsets.yaml", "objects/pods.yaml", "events.yaml",
		"logs/velero-5d9c7-x2x8p/velero.log", ManifestName, "reports/identity-status.json"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the bundle lacks %s; it holds %v", want, keys(files))
		}
	}
	for name, content := range files {
		for _, s := range secrets {
			if s != "" && strings.Contains(content, s) {
				t.Errorf("%s holds the planted secret %q", name, s)
			}
		}
		if name != ManifestName && (strings.Contains(content, "last-applied-configuration") || strings.Contains(content, "managedFields")) {
			t.Errorf("%s keeps last-applied-configuration or managedFields", name)
		}
	}
	if _, ok := files["logs/unrelated/x.log"]; ok {
		t.Error("the bundle holds the logs of a pod no workload of the profile owns")
	}
	// The evidence stays readable: names, IDs and the non-secret env value.
	for file, want := range map[string]string{
		"objects/pods.yaml":                   "00000000-0000-0000-0000-0000000000aa",
		"objects/serviceaccounts.yaml":        "azure.workload.identity/client-id",
		"objects/backupstoragelocations.yaml": "storageAccount: acct",
		"logs/velero-5d9c7-x2x8p/velero.log":  "validation failed",
	} {
		if !strings.Contains(files[file], want) {
			t.Errorf("%s lost %q:\n%s", file, want, files[file])
		}
	}
	var m Manifest
	if err := yaml.Unmarshal([]byte(files[ManifestName]), &m); err != nil {
		t.Fatalf("MANIFEST.yaml: %v", err)
	}
	if len(m.Files) != len(files)-1 || m.Namespace != ns {
		t.Errorf("the manifest lists %d files for namespace %q; the archive holds %d besides it", len(m.Files), m.Namespace, len(files)-1)
	}
}

func TestForbiddenReadsAreRecordedNotFatal(t *testing.T) {
	src, _ := plantedCluster(t)
	cs := src.Client.(*fake.Clientset)
	cs.PrependReactor("list", "events", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "", errors.New("RBAC: no list"))
	})
	var buf bytes.Buffer
	a := NewArchive(&buf, time.Now())
	if err := Collect(context.Background(), a, src); err != nil {
		t.Fatal(err)
	}
	m := a.Manifest()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if len(m.Skipped) != 1 || m.Skipped[0].What != "events.yaml" || !strings.HasPrefix(m.Skipped[0].Reason, "forbidden") {
		t.Fatalf("skipped = %+v, want events.yaml forbidden", m.Skipped)
	}
	if files := readArchive(t, buf.Bytes()); files["objects/pods.yaml"] == "" {
		t.Error("a forbidden read stopped the rest of the collection")
	}
}

func TestListAllFollowsPages(t *testing.T) {
	calls := 0
	pages := [][]any{{map[string]any{"metadata": map[string]any{"name": "a"}}}, {map[string]any{"metadata": map[string]any{"name": "b"}}}}
	items, err := listAll(context.Background(), func(_ context.Context, o metav1.ListOptions) ([]any, string, error) {
		if o.Limit != PageSize {
			t.Errorf("page limit %d, want %d", o.Limit, PageSize)
		}
		calls++
		if o.Continue == "" {
			return pages[0], "next", nil
		}
		return pages[1], "", nil
	}, "v1", "Pod")
	if err != nil || calls != 2 || len(items) != 2 {
		t.Fatalf("listAll: %d items in %d calls, err %v", len(items), calls, err)
	}
	if items[0].(map[string]any)["kind"] != "Pod" {
		t.Errorf("items lack their kind: %v", items[0])
	}
}

func TestLogKeepsTheMostRecentWholeLines(t *testing.T) {
	text := "first line\nsecond line\nthird line\n"
	src := Source{LogBytes: len("second line\nthird line\n"), Logs: func(context.Context, string, string, string, time.Duration) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(text)), nil
	}}
	got, err := readLog(context.Background(), src, "p", "c")
	if err != nil || string(got) != "second line\nthird line\n" {
		t.Fatalf("readLog = %q, %v", got, err)
	}
}

func TestRepeatedNamesStayDistinct(t *testing.T) {
	var buf bytes.Buffer
	a := NewArchive(&buf, time.Now())
	for range 2 {
		if err := a.AddText("logs/p/c.log", "", []byte("x\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	files := readArchive(t, buf.Bytes())
	if _, ok := files["logs/p/c-2.log"]; !ok {
		t.Errorf("a repeated name overwrote the first file: %v", keys(files))
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestEndlessLineIsMarkedNotDropped(t *testing.T) {
	text := "before\n" + strings.Repeat("x", 2<<20) + "\nafter\n"
	src := Source{LogBytes: 4 << 20, Logs: func(context.Context, string, string, string, time.Duration) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(text)), nil
	}}
	got, err := readLog(context.Background(), src, "p", "c")
	if err != nil || !strings.HasPrefix(string(got), "before\n") || !strings.Contains(string(got), "longer than 1 MiB") {
		t.Fatalf("readLog = %.80q..., %v", got, err)
	}
}
