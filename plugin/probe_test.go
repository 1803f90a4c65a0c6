package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe/probekube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe/probetest"
)

const (
	probeNS        = "velero"
	probeSAToken   = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9iZS10ZXN0In0.cHJvYmUtdG9rZW4tc2lnbmF0dXJl"
	probeClientID  = "c0ffee00-aaaa-4bbb-8ccc-000000000001"
	verifierResult = `{"runId":"x","mode":"cluster","target":{"container":"velero","serviceURL":"https://x","useAAD":true},"blob":"aksbackup-probe-x","ok":true,"durationMs":5,
"steps":[{"name":"env","status":"ok","latencyMs":0},{"name":"list","status":"ok","latencyMs":1},{"name":"put","status":"ok","latencyMs":1},{"name":"get","status":"ok","latencyMs":1},{"name":"delete","status":"ok","latencyMs":1},{"name":"confirm-gone","status":"ok","latencyMs":1}]}`
)

// probeCluster is plain Velero wired for workload identity, with RBAC answers per verb and resource.
type probeCluster struct {
	client *fake.Clientset
	// denied lists "verb resource[/subresource]" the SSAR refuses.
	denied map[string]bool
	// podUpdates are applied, one watch event each, after the verifier pod is created.
	podUpdates []func(*corev1.Pod)
	tokens     int
}

func newProbeCluster(t *testing.T, labelled bool, podUpdates ...func(*corev1.Pod)) *probeCluster {
	labels := map[string]string{"app": "velero"}
	if labelled {
		labels[probekube.UseLabel] = "true"
	}
	pc := &probeCluster{denied: map[string]bool{}, podUpdates: podUpdates}
	pc.client = fake.NewClientset(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: probeNS,
			Annotations: map[string]string{probekube.ClientIDKey: probeClientID, probekube.TenantIDKey: probetest.Tenant}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: probeNS}, Spec: appsv1.DeploymentSpec{
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{ServiceAccountName: "velero",
				Containers: []corev1.Container{{Name: "velero", Env: []corev1.EnvVar{{Name: "HTTPS_PROXY", Value: "http://proxy.internal:3128"}, {Name: "OTHER", Value: "x"}}}}}}}},
	)
	pc.client.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview)
		attrs := r.Spec.ResourceAttributes
		key := attrs.Verb + " " + strings.TrimSuffix(attrs.Resource+"/"+attrs.Subresource, "/")
		r.Status.Allowed = !pc.denied[key]
		return true, r, nil
	})
	pc.client.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		tr := a.(k8stesting.CreateAction).GetObject().(*authnv1.TokenRequest)
		if len(tr.Spec.Audiences) != 1 || tr.Spec.Audiences[0] != probekube.TokenAudience || tr.Spec.ExpirationSeconds == nil || *tr.Spec.ExpirationSeconds != 600 {
			return true, nil, fmt.Errorf("unexpected token request %+v", tr.Spec)
		}
		pc.tokens++
		tr.Status.Token = probeSAToken
		return true, tr, nil
	})
	fw := watch.NewFakeWithChanSize(len(podUpdates)+1, false)
	pc.client.PrependWatchReactor("pods", func(k8stesting.Action) (bool, watch.Interface, error) { return true, fw, nil })
	pc.client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pod := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod).DeepCopy()
		for _, u := range pc.podUpdates {
			u(pod)
			fw.Modify(pod.DeepCopy())
		}
		return false, nil, nil
	})
	return pc
}

func (pc *probeCluster) verifierPods(t *testing.T) []corev1.Pod {
	pods, err := pc.client.CoreV1().Pods(probeNS).List(context.Background(), metav1.ListOptions{LabelSelector: probekube.LabelSelector("")})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

func (pc *probeCluster) createdPod(t *testing.T) *corev1.Pod {
	for _, a := range pc.client.Actions() {
		if a.GetVerb() == "create" && a.GetResource().Resource == "pods" {
			return a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		}
	}
	t.Fatal("no pod was created")
	return nil
}

// withFakeAzure points local mode at the fake's Entra and blob endpoints through a custom cloud, and
// returns a BSL that names the fake's blob service.
func withFakeAzure(t *testing.T) (*probetest.Azure, *velerov1.BackupStorageLocation, string) {
	f := probetest.New(t)
	tr := f.Srv.Client().Transport.(*http.Transport).Clone()
	tr.Proxy = nil
	old := probeTransport
	probeTransport = func() *http.Transport { return tr }
	t.Cleanup(func() { probeTransport = old })
	cloudFile := filepath.Join(t.TempDir(), "cloud.json")
	cloudJSON := fmt.Sprintf(`{"name":"Fake","resourceManagerEndpoint":%q,"activeDirectoryAuthorityHost":%q,"storageSuffix":"fake.local"}`, f.Srv.URL+"/", f.Srv.URL+"/")
	if err := os.WriteFile(cloudFile, []byte(cloudJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	b := location("default", "Available", "", time.Now())
	b.Namespace = probeNS
	b.Spec.Config["storageAccountURI"] = f.Srv.URL + "/devstoreaccount1"
	return f, b, cloudFile
}

func runProbe(t *testing.T, pc *probeCluster, b *velerov1.BackupStorageLocation, args ...string) (string, string, error) {
	t.Helper()
	f := &fakeFactory{client: pc.client, explicitNS: probeNS}
	if b != nil {
		f.dyn = dynamicWith(t, b)
	} else {
		f.dyn = dynamicWith(t)
	}
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := NewRootCommand(streams)
	root.ResetCommands()
	root.AddCommand(NewProbeCommand(f, streams))
	root.SetArgs(append([]string{"probe", "--profile", "velero", "-n", probeNS}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	root.SetContext(ctx)
	err := Execute(root)
	return out.String(), errOut.String(), err
}

func TestProbeLocal(t *testing.T) {
	tests := []struct {
		name     string
		labelled bool
		setup    func(*probetest.Azure, *probeCluster)
		code     int
		want     []string
	}{
		{name: "healthy", labelled: true, code: exitcode.OK,
			want: []string{"PASS  default", "token-request", "token-exchange", "confirm-gone", "no problems found"}},
		{name: "no data role", labelled: true, setup: func(f *probetest.Azure, _ *probeCluster) { f.FailOp["put"] = "AuthorizationPermissionMismatch" },
			code: exitcode.Findings, want: []string{"FAIL  default", "blob-data-role-missing", "step put", "HTTP 403", "identity configure --profile velero --yes"}},
		{name: "wrong federated subject", labelled: true, setup: func(f *probetest.Azure, _ *probeCluster) { f.EntraError = 700213 },
			code: exitcode.Findings, want: []string{"federated-credential-mismatch", "AADSTS700213", "step token-exchange"}},
		{name: "no pod label still probes", labelled: false, code: exitcode.Findings, want: []string{"wi-label-missing", "step wiring", "confirm-gone    ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, b, cloudFile := withFakeAzure(t)
			pc := newProbeCluster(t, tt.labelled)
			if tt.setup != nil {
				tt.setup(f, pc)
			}
			out, errOut, err := runProbe(t, pc, b, "--mode", "local", "--cloud-config", cloudFile)
			expectRun(t, out, errOut, err, tt.code, tt.want, []string{probeSAToken, "fake-access-token"})
			if pc.tokens != 1 {
				t.Errorf("%d token requests, want 1", pc.tokens)
			}
			for k := range f.Blobs {
				if strings.Contains(k, probe.BlobPrefix) {
					t.Errorf("probe blob left: %s", k)
				}
			}
		})
	}
}

func TestProbeLocalJSON(t *testing.T) {
	_, b, cloudFile := withFakeAzure(t)
	pc := newProbeCluster(t, true)
	out, errOut, err := runProbe(t, pc, b, "--mode", "local", "--cloud-config", cloudFile, "-o", "json")
	expectRun(t, out, errOut, err, exitcode.OK, nil, nil)
	var rep probe.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Kind != "ProbeReport" || rep.Mode != "local" || len(rep.Results) != 1 || !rep.Results[0].OK || rep.Results[0].Target.BSL != "default" {
		t.Fatalf("report: %s", out)
	}
	var names []string
	for _, s := range rep.Results[0].Steps {
		names = append(names, s.Name)
	}
	want := "wiring token-request tcp tls tcp tls token-exchange list put get delete confirm-gone"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
}

func TestProbeLocalNeedsTokenRBAC(t *testing.T) {
	_, b, cloudFile := withFakeAzure(t)
	pc := newProbeCluster(t, true)
	pc.denied["create serviceaccounts/token"] = true
	out, errOut, err := runProbe(t, pc, b, "--mode", "local", "--cloud-config", cloudFile)
	expectRun(t, out, errOut, err, exitcode.InvalidInput, []string{"may not create serviceaccounts/token for velero/velero", "nothing was done"}, nil)
	if pc.tokens != 0 {
		t.Error("a token was requested without permission")
	}
}

func TestProbeFallsBackToLocalWithoutPodRBAC(t *testing.T) {
	_, b, cloudFile := withFakeAzure(t)
	pc := newProbeCluster(t, true)
	pc.denied["create pods"] = true
	out, errOut, err := runProbe(t, pc, b, "--cloud-config", cloudFile)
	expectRun(t, out, errOut, err, exitcode.OK, []string{"probe-local-fallback", "local mode"}, nil)
	if len(pc.verifierPods(t)) != 0 {
		t.Error("a pod was created")
	}
}

func TestProbeCluster(t *testing.T) {
	scheduled := func(p *corev1.Pod) { p.Spec.NodeName = "node-1" }
	finished := func(msg string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodSucceeded
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "verifier", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Message: msg}}}}
		}
	}
	pullBackOff := func(p *corev1.Pod) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "verifier", Image: "registry.example.com/v:1",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}}
	}
	tests := []struct {
		name    string
		updates []func(*corev1.Pod)
		args    []string
		code    int
		want    []string
		keep    bool
	}{
		{name: "healthy", updates: []func(*corev1.Pod){scheduled, finished(verifierResult)}, code: exitcode.OK, want: []string{"PASS  default", "pod  ", "cluster mode", "no problems found"}},
		{name: "image pull names --image", updates: []func(*corev1.Pod){scheduled, pullBackOff}, args: []string{"--image", "registry.example.com/v:1"},
			code: exitcode.Findings, want: []string{"verifier-image-pull-failed", "registry.example.com/v:1 (--image)"}},
		{name: "no result", updates: []func(*corev1.Pod){scheduled, finished("")}, code: exitcode.Findings, want: []string{"verifier-failed"}},
		{name: "kept", updates: []func(*corev1.Pod){scheduled, finished(verifierResult)}, args: []string{"--keep"}, code: exitcode.OK, keep: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, b, cloudFile := withFakeAzure(t)
			pc := newProbeCluster(t, true, tt.updates...)
			out, errOut, err := runProbe(t, pc, b, append([]string{"--cloud-config", cloudFile}, tt.args...)...)
			expectRun(t, out, errOut, err, tt.code, tt.want, nil)
			if left := len(pc.verifierPods(t)); (left == 1) != tt.keep {
				t.Errorf("%d verifier pods left with keep=%v", left, tt.keep)
			}
			pod := pc.createdPod(t)
			c := pod.Spec.Containers[0]
			args := strings.Join(c.Args, " ")
			if pod.Spec.ServiceAccountName != "velero" || len(c.Env) != 1 || c.Env[0].Name != "HTTPS_PROXY" || !strings.Contains(args, "--authority-host "+strings.TrimSuffix(b.Spec.Config["storageAccountURI"], "devstoreaccount1")) {
				t.Errorf("pod: sa %s env %v args %s", pod.Spec.ServiceAccountName, c.Env, args)
			}
			if pc.tokens != 0 {
				t.Error("cluster mode requested a token")
			}
		})
	}
}

// The real SIGINT reaches the command while the pod is pending; the pod is deleted, exit 3.
func TestProbeClusterSIGINTDeletesThePod(t *testing.T) {
	_, b, cloudFile := withFakeAzure(t)
	pc := newProbeCluster(t, true, func(p *corev1.Pod) {
		// The command listens for signals from its start; the pod now exists.
		go func() {
			time.Sleep(50 * time.Millisecond)
			_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
		}()
	})
	out, errOut, err := runProbe(t, pc, b, "--cloud-config", cloudFile)
	expectRun(t, out, errOut, err, exitcode.Failed, []string{"probe interrupted"}, nil)
	if len(pc.verifierPods(t)) != 0 {
		t.Error("the verifier pod was left behind")
	}
}

func TestProbeClusterTimeoutDeletesThePod(t *testing.T) {
	_, b, cloudFile := withFakeAzure(t)
	pc := newProbeCluster(t, true, func(p *corev1.Pod) {})
	out, errOut, err := runProbe(t, pc, b, "--cloud-config", cloudFile, "--timeout", "300ms")
	expectRun(t, out, errOut, err, exitcode.Findings, []string{"probe-timeout"}, nil)
	if len(pc.verifierPods(t)) != 0 {
		t.Error("the verifier pod was left behind")
	}
}

func TestProbeBadInput(t *testing.T) {
	for _, args := range [][]string{{"--mode", "remote"}, {"--mode", "local", "--keep"}, {"--bsl", "Bad_Name"}, {"--image", " "}, {"-o", "xml"}, {"--bsl", "missing"}} {
		pc := newProbeCluster(t, true)
		out, errOut, err := runProbe(t, pc, location("default", "Available", "", time.Now()), args...)
		expectRun(t, out, errOut, err, exitcode.InvalidInput, nil, nil)
		if len(pc.client.Actions()) > 0 && len(pc.verifierPods(t)) > 0 {
			t.Errorf("%v created a pod", args)
		}
	}
}

func TestProbeCleanup(t *testing.T) {
	f, b, cloudFile := withFakeAzure(t)
	b.Spec.ObjectStorage.Prefix = "cluster-a"
	pc := newProbeCluster(t, true)
	oldID := probe.NewRunID(time.Now().Add(-3 * time.Hour))
	f.Blobs["velero/cluster-a/"+probe.BlobPrefix+oldID] = []byte("x")
	f.Blobs["velero/cluster-a/backups/b/velero-backup.json"] = []byte("{}")
	old := metav1.NewTime(time.Now().Add(-3 * time.Hour))
	_, _ = pc.client.CoreV1().Pods(probeNS).Create(context.Background(), &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "aksbackup-verifier-x", Namespace: probeNS,
		Labels: map[string]string{probekube.AppLabel: probekube.AppName}, CreationTimestamp: old}}, metav1.CreateOptions{})
	out, errOut, err := runProbe(t, pc, b, "cleanup", "--cloud-config", cloudFile, "--dry-run")
	expectRun(t, out, errOut, err, exitcode.OK, []string{"would delete", "cluster-a/" + probe.BlobPrefix + oldID, "velero/aksbackup-verifier-x"}, nil)
	if len(f.Blobs) != 2 || len(pc.verifierPods(t)) != 1 {
		t.Fatal("--dry-run deleted something")
	}
	out, errOut, err = runProbe(t, pc, b, "cleanup", "--cloud-config", cloudFile)
	expectRun(t, out, errOut, err, exitcode.OK, []string{"deleted"}, []string{probeSAToken})
	if len(f.Blobs) != 1 || len(pc.verifierPods(t)) != 0 {
		t.Errorf("left: %d blobs, %d pods", len(f.Blobs), len(pc.verifierPods(t)))
	}
	if _, ok := f.Blobs["velero/cluster-a/backups/b/velero-backup.json"]; !ok {
		t.Error("cleanup deleted a backup")
	}
}

func TestProbeTargetFromFlagsAlone(t *testing.T) {
	_, b, cloudFile := withFakeAzure(t)
	pc := newProbeCluster(t, true)
	out, errOut, err := runProbe(t, pc, nil, "--mode", "local", "--cloud-config", cloudFile, "--container", "velero",
		"--storage-account-uri", b.Spec.Config["storageAccountURI"], "--prefix", "cluster-b")
	expectRun(t, out, errOut, err, exitcode.OK, []string{"PASS  (flags)", "devstoreaccount1/velero/cluster-b"}, nil)
	out, errOut, err = runProbe(t, pc, nil, "--mode", "local", "--cloud-config", cloudFile)
	expectRun(t, out, errOut, err, exitcode.InvalidInput, []string{"has no Azure BackupStorageLocation to probe"}, nil)
}
