package plugin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	snapshotclient "github.com/kubernetes-csi/external-snapshotter/client/v8/clientset/versioned"
	snapshotfake "github.com/kubernetes-csi/external-snapshotter/client/v8/clientset/versioned/fake"
	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

const clientID = "11111111-2222-3333-4444-555555555555"

type fakeFactory struct {
	client      *fake.Clientset
	dyn         dynamic.Interface
	explicitNS  string
	rg, cluster string
	// serverErr is what CheckAPIServer answers.
	serverErr error
	// snapshots serves the snapshot.storage.k8s.io types (preflight).
	snapshots *snapshotfake.Clientset
}

func (f *fakeFactory) Snapshots() (snapshotclient.Interface, error) {
	if f.snapshots == nil {
		f.snapshots = snapshotfake.NewSimpleClientset()
	}
	return f.snapshots, nil
}

func (f *fakeFactory) Clientset() (kubernetes.Interface, error) { return f.client, nil }
func (f *fakeFactory) Dynamic() (dynamic.Interface, error)      { return f.dyn, nil }
func (f *fakeFactory) Namespaces() (string, string, error)      { return f.explicitNS, "default", nil }
func (f *fakeFactory) Host() string                             { return "https://fake" }
func (f *fakeFactory) AKSCluster() (string, string, bool)       { return f.rg, f.cluster, f.rg != "" }
func (f *fakeFactory) CheckAPIServer(context.Context) error     { return f.serverErr }

// unwiredCluster is the AKS Backup extension before workload identity, with one running pod each.
func unwiredCluster(allow bool) *fake.Clientset {
	p, _ := profile.Resolve(profile.Selection{})
	objs := []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}}}
	for _, pair := range p.Pairs {
		labels := map[string]string{"app": pair.Workload.Name}
		objs = append(objs,
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: pair.ServiceAccount, Namespace: p.Namespace}},
			&appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: pair.Workload.Name, Namespace: p.Namespace, Generation: 1},
				Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
						Spec: corev1.PodSpec{ServiceAccountName: pair.ServiceAccount, Containers: []corev1.Container{{Name: "c"}}}}},
				Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1},
			},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pair.Workload.Name + "-1", Namespace: p.Namespace, Labels: labels},
				Spec: corev1.PodSpec{ServiceAccountName: pair.ServiceAccount, Containers: []corev1.Container{{Name: "c"}}}},
		)
	}
	client := fake.NewClientset(objs...)
	client.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		review := action.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview)
		review.Status.Allowed = allow
		return true, review, nil
	})
	return client
}

func patches(client *fake.Clientset) int {
	n := 0
	for _, a := range client.Actions() {
		if a.GetVerb() == "patch" {
			n++
		}
	}
	return n
}

func run(t *testing.T, factory *fakeFactory, stdin string, args ...string) (string, string, error) {
	t.Helper()
	streams, in, out, errOut := genericiooptions.NewTestIOStreams()
	in.WriteString(stdin)
	root := NewRootCommand(streams)
	// Swap the real factory for the fake in every command by rebuilding the subtree.
	root.ResetCommands()
	root.AddCommand(NewVersionCommand(streams), NewIdentityCommand(factory, streams), NewRestartCommand(factory, streams), NewTrustedAccessCommand(factory, streams),
		NewBSLCommand(factory, streams), NewTriageCommand(factory, streams))
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	root.SetContext(ctx)
	err := Execute(root)
	return out.String(), errOut.String(), err
}

func TestIdentityStatus(t *testing.T) {
	f := &fakeFactory{client: unwiredCluster(true)}
	out, _, err := run(t, f, "", "identity", "status")
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("exit %d (%v), want 1", exitcode.Code(err), err)
	}
	for _, want := range []string{"wi-label-missing", "wi-client-id-missing", "wi-not-injected", "POD LABEL", "9 errors, 0 warnings"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = run(t, f, "", "identity", "status", "-o", "json")
	var st identity.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, out)
	}
	if st.Kind != "IdentityStatus" || len(st.Components) != 3 || st.Summary.Errors == 0 {
		t.Errorf("unexpected document: %+v", st)
	}
	if _, _, err := run(t, f, "", "identity", "status", "-o", "xml"); exitcode.Code(err) != exitcode.InvalidInput {
		t.Errorf("-o xml: exit %d", exitcode.Code(err))
	}
}

func TestIdentityConfigure(t *testing.T) {
	tests := []struct {
		name        string
		allow       bool
		stdin       string
		args        []string
		wantCode    int
		wantPatches int
		wantOut     string
		wantErr     string
	}{
		{name: "client dry run writes nothing", allow: true, args: []string{"--client-id", clientID, "--dry-run=client"},
			wantCode: exitcode.OK, wantOut: "Dry run (client)"},
		{name: "bare --dry-run means client", allow: true, args: []string{"--client-id", clientID, "--dry-run"},
			wantCode: exitcode.OK, wantOut: "serviceaccount/dataprotection-microsoft-controller-sa"},
		{name: "no terminal and no --yes is refused", allow: true, args: []string{"--client-id", clientID},
			wantCode: exitcode.InvalidInput, wantErr: "pass --yes"},
		{name: "apply without waiting", allow: true, args: []string{"--client-id", clientID, "--yes", "--wait=false"},
			wantCode: exitcode.OK, wantPatches: 6, wantOut: "Applied 6 change(s)"},
		{name: "server dry run sends dry-run patches", allow: true, args: []string{"--client-id", clientID, "--dry-run=server"},
			wantCode: exitcode.OK, wantPatches: 6, wantOut: "Dry run (server)"},
		{name: "RBAC denial before any write", allow: false, args: []string{"--client-id", clientID, "--yes"},
			wantCode: exitcode.InvalidInput, wantErr: "lacks RBAC permission to patch serviceaccounts in namespace dataprotection-microsoft; patch deployments.apps"},
		{name: "--wait-bsl with a dry run is refused", allow: true, args: []string{"--client-id", clientID, "--dry-run=client", "--wait-bsl"},
			wantCode: exitcode.InvalidInput, wantErr: "--wait-bsl needs the changes applied"},
		{name: "malformed GUID", allow: true, args: []string{"--client-id", "1234", "--yes"},
			wantCode: exitcode.InvalidInput, wantErr: "is not a GUID"},
		{name: "unknown phase", allow: true, args: []string{"--client-id", clientID, "--skip-phases", "reboot"},
			wantCode: exitcode.InvalidInput, wantErr: "the phases are federated-credential, role-assignment, service-account, pod-label, restart"},
		{name: "json needs --yes or --dry-run", allow: true, args: []string{"--client-id", clientID, "-o", "json"},
			wantCode: exitcode.InvalidInput, wantErr: "cannot prompt"},
		{name: "missing namespace", allow: true, args: []string{"--client-id", clientID, "--yes", "-n", "nope"},
			wantCode: exitcode.InvalidInput, wantErr: `"nope" does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeFactory{client: unwiredCluster(tc.allow)}
			for i, a := range tc.args {
				if a == "-n" {
					f.explicitNS = tc.args[i+1]
				}
			}
			args := append([]string{"identity", "configure"}, tc.args...)
			out, _, err := run(t, f, tc.stdin, args...)
			if got := exitcode.Code(err); got != tc.wantCode {
				t.Fatalf("exit %d (%v), want %d\n%s", got, err, tc.wantCode, out)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v lacks %q", err, tc.wantErr)
			}
			if tc.wantOut != "" && !strings.Contains(out, tc.wantOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantOut, out)
			}
			if got := patches(f.client); got != tc.wantPatches {
				t.Errorf("%d patches, want %d", got, tc.wantPatches)
			}
		})
	}
}

func TestIdentityConfigureTwiceSaysNoChanges(t *testing.T) {
	f := &fakeFactory{client: unwiredCluster(true)}
	if _, _, err := run(t, f, "", "identity", "configure", "--client-id", clientID, "--yes", "--wait=false", "--skip-phases", "restart"); err != nil {
		t.Fatal(err)
	}
	before := patches(f.client)
	out, _, err := run(t, f, "", "identity", "configure", "--client-id", clientID, "--yes", "--skip-phases", "restart")
	if err != nil || !strings.Contains(out, "No changes") || patches(f.client) != before {
		t.Fatalf("second run: err %v, %d new patches, output:\n%s", err, patches(f.client)-before, out)
	}
}

func TestRestart(t *testing.T) {
	f := &fakeFactory{client: unwiredCluster(true)}
	out, _, err := run(t, f, "", "restart", "--dry-run=client")
	if err != nil || patches(f.client) != 0 || strings.Count(out, "restarted (dry run)") != 3 {
		t.Fatalf("dry run: %v, %d patches\n%s", err, patches(f.client), out)
	}
	out, _, err = run(t, f, "", "restart", "--wait=false")
	if err != nil || patches(f.client) != 3 {
		t.Fatalf("restart: %v, %d patches\n%s", err, patches(f.client), out)
	}
	_, _, err = run(t, f, "", "restart", "--profile", "velero")
	if exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "deployment velero not found") {
		t.Fatalf("missing deployment: %v", err)
	}
}

func TestVersionAndUsageErrors(t *testing.T) {
	f := &fakeFactory{client: unwiredCluster(true)}
	out, _, err := run(t, f, "", "version", "-o", "json")
	if err != nil || !strings.Contains(out, `"version"`) {
		t.Fatalf("version: %v %s", err, out)
	}
	for _, args := range [][]string{{"nope"}, {"identity", "status", "--bogus"}, {"version", "extra"}} {
		if _, _, err := run(t, f, "", args...); exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "-h' for help") {
			t.Errorf("%v: exit %d, %v", args, exitcode.Code(err), err)
		}
	}
}
