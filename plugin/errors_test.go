package plugin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
)

// stuckServer accepts TCP connections and never writes a byte: neither an HTTP answer nor, for
// https, the TLS handshake.
func stuckServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// kubeconfigFor writes a kubeconfig whose only context points at server.
func kubeconfigFor(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: %s
    insecure-skip-tls-verify: true
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
users:
- name: u
  user: {token: not-a-real-token}
`, server)
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runReal runs the real command tree (real kubeconfig loading and clients) with a guard that fails
// the test instead of hanging when the command does not return.
func runReal(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := NewRootCommand(streams)
	root.SetArgs(args)
	done := make(chan error, 1)
	go func() { done <- Execute(root) }()
	select {
	case err := <-done:
		return out.String(), errOut.String(), err
	case <-time.After(60 * time.Second):
		t.Fatalf("%v did not return within 60s", args)
		return "", "", nil
	}
}

// TestStuckAPIServerEndsWithinTimeout: a server that takes the connection and never answers (plain
// HTTP, or TLS that never completes the handshake) ends every API command at its --timeout, exit 3,
// with an error that names the server and the timeout.
func TestStuckAPIServerEndsWithinTimeout(t *testing.T) {
	addr := stuckServer(t)
	commands := [][]string{
		{"bsl"},
		{"identity", "status"},
		{"restart"},
		{"triage"},
		{"identity", "configure", "--client-id", clientID, "--yes"},
	}
	for _, scheme := range []string{"http", "https"} {
		kubeconfig := kubeconfigFor(t, scheme+"://"+addr)
		for _, command := range commands {
			t.Run(scheme+" "+strings.Join(command, " "), func(t *testing.T) {
				t.Parallel()
				args := append(append([]string{"--kubeconfig", kubeconfig}, command...), "--timeout", "3s")
				out, errOut, err := runReal(t, args...)
				expectRun(t, out, errOut, err, exitcode.Failed,
					[]string{"gave up after --timeout 3s", "the API server at " + scheme + "://" + addr + " did not answer in time"}, nil)
			})
		}
	}
}

// TestNotKubernetesServer: a kubeconfig that points at a web server is named as such, not reported
// as missing Velero CRDs or a missing namespace.
func TestNotKubernetesServer(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		detail  string
	}{
		{"404 HTML", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "<html><body>Not Found</body></html>")
		}, `answered 404 with "<html><body>Not Found</body></html>"`},
		{"JSON that is no Kubernetes document", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"status":"ok"}`)
		}, `answered "{\"status\":\"ok\"}", not a Kubernetes version document`},
	}
	for _, tc := range tests {
		srv := httptest.NewServer(tc.handler)
		t.Cleanup(srv.Close)
		kubeconfig := kubeconfigFor(t, srv.URL)
		for _, command := range [][]string{{"bsl"}, {"identity", "status"}, {"restart"}, {"triage"}} {
			t.Run(tc.name+" "+strings.Join(command, " "), func(t *testing.T) {
				out, errOut, err := runReal(t, append([]string{"--kubeconfig", kubeconfig}, command...)...)
				expectRun(t, out, errOut, err, exitcode.Failed,
					[]string{"the server at " + srv.URL + " does not look like a Kubernetes API server", tc.detail},
					[]string{"CRDs are not installed", "does not exist", "not found in namespace"})
			})
		}
	}
}

func TestUnknownSubcommand(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"bogus"}, []string{`unknown command "bogus" for "kubectl aksbackup"`, "See 'kubectl aksbackup -h'"}},
		{[]string{"identity", "bogus"}, []string{`unknown command "bogus" for "kubectl aksbackup identity"`, "See 'kubectl aksbackup identity -h'"}},
		{[]string{"identity", "statsu"}, []string{`unknown command "statsu"`, "Did you mean this?\n\tstatus"}},
		{[]string{"trusted-access", "bogus"}, []string{`unknown command "bogus" for "kubectl aksbackup trusted-access"`}},
		{[]string{"restart", "bogus"}, []string{`unknown command "bogus" for "kubectl aksbackup restart"`}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f := &fakeFactory{client: unwiredCluster(true)}
			out, errOut, err := run(t, f, "", tc.args...)
			expectRun(t, out, errOut, err, exitcode.InvalidInput, tc.want, nil)
			if len(f.client.Actions()) != 0 {
				t.Errorf("an unknown command sent %d requests", len(f.client.Actions()))
			}
		})
	}
	// A group alone still prints its help, as kubectl does.
	out, _, err := run(t, &fakeFactory{client: unwiredCluster(true)}, "", "identity")
	if err != nil || !strings.Contains(out, "Available Commands") {
		t.Fatalf("identity alone: %v\n%s", err, out)
	}
}

// TestNamesCheckedLocally: namespace, BSL, deployment, service account and container names are
// checked as DNS-1123 before any request; the error quotes the value escaped and states the rule.
func TestNamesCheckedLocally(t *testing.T) {
	tests := []struct {
		name string
		ns   string
		args []string
		want []string
	}{
		{"uppercase namespace", "Velero", []string{"bsl"},
			[]string{`invalid namespace "Velero"`, "RFC 1123 label", "check -n"}},
		{"namespace with a terminal escape", "velero\x1b[31m", []string{"identity", "status"},
			[]string{`invalid namespace "velero\x1b[31m"`, "RFC 1123 label"}},
		{"namespace too long", strings.Repeat("a", 64), []string{"restart"},
			[]string{"invalid namespace", "must be no more than 63 characters"}},
		{"namespace for triage", "bad_ns", []string{"triage"}, []string{`invalid namespace "bad_ns"`}},
		{"bsl name", "", []string{"bsl", "Default_Location"},
			[]string{`invalid BackupStorageLocation name "Default_Location"`, "RFC 1123 subdomain"}},
		{"deployment name", "velero", []string{"restart", "--service-account", "velero", "--deployment", "Velero Server"},
			[]string{`invalid deployment name "Velero Server"`, "RFC 1123 subdomain", "check --deployment"}},
		{"service account name", "velero", []string{"identity", "configure", "--client-id", clientID, "--service-account", "sa/x", "--deployment", "velero"},
			[]string{`invalid service account name "sa/x"`}},
		{"container name", "", []string{"triage", "--container", "Velero"}, []string{`invalid container name "Velero"`, "RFC 1123 label"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeFactory{client: unwiredCluster(true), dyn: dynamicWith(t), explicitNS: tc.ns}
			out, errOut, err := run(t, f, "", tc.args...)
			expectRun(t, out, errOut, err, exitcode.InvalidInput, tc.want, nil)
			if n := len(f.client.Actions()) + len(f.dyn.(interface{ Actions() []k8stesting.Action }).Actions()); n != 0 {
				t.Errorf("%d requests were sent before the name was checked", n)
			}
		})
	}
}

// TestCloudConfigMustBeHTTPS: a custom cloud with an http endpoint is refused before anything runs.
func TestCloudConfigMustBeHTTPS(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.json")
	if err := os.WriteFile(path, []byte(`{"resourceManagerEndpoint":"http://127.0.0.1:8443/","activeDirectoryAuthorityHost":"https://login.example/"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := &fakeFactory{client: unwiredCluster(true), rg: "rg", cluster: "aks"}
	t.Setenv("AZURE_SUBSCRIPTION_ID", "00000000-0000-0000-0000-000000000001")
	out, errOut, err := run(t, f, "", "identity", "status", "--cloud-config", path)
	expectRun(t, out, errOut, err, exitcode.InvalidInput, []string{`resourceManagerEndpoint "http://127.0.0.1:8443/" is not https`, path}, nil)
	if len(f.client.Actions()) != 0 {
		t.Errorf("%d requests were sent before --cloud-config was checked", len(f.client.Actions()))
	}
}

// TestTimedOutPermissionCheckIsNotBadInput: a permission check cut off by --timeout is a runtime
// failure (exit 3), not a missing permission (exit 2).
func TestTimedOutPermissionCheckIsNotBadInput(t *testing.T) {
	client := unwiredCluster(true)
	client.PrependReactor("create", "selfsubjectaccessreviews", func(k8stesting.Action) (bool, runtime.Object, error) {
		time.Sleep(1500 * time.Millisecond)
		return true, nil, fmt.Errorf("Post \"https://fake/apis/authorization.k8s.io/v1/selfsubjectaccessreviews\": %w", context.DeadlineExceeded)
	})
	out, errOut, err := run(t, &fakeFactory{client: client}, "", "restart", "--timeout", "1s")
	expectRun(t, out, errOut, err, exitcode.Failed, []string{"gave up after --timeout 1s", "did not answer in time"}, []string{"lacks RBAC permission"})
}

// TestKubeconfigProblemsAreBadInput: a kubeconfig that cannot give a client is exit 2, named.
func TestKubeconfigProblemsAreBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kubelogin := filepath.Join(dir, "aks")
	if err := os.WriteFile(kubelogin, []byte(`apiVersion: v1
kind: Config
clusters:
- name: aks
  cluster: {server: "https://127.0.0.1:1"}
contexts:
- name: aks
  context: {cluster: aks, user: clusterUser_rg_aks}
current-context: aks
users:
- name: clusterUser_rg_aks
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin, args: [get-token]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	tests := []struct {
		kubeconfig string
		want       []string
	}{
		{empty, []string{"--kubeconfig " + empty + " has no contexts"}},
		{filepath.Join(dir, "absent"), []string{"--kubeconfig " + filepath.Join(dir, "absent") + " does not exist"}},
		{kubelogin, []string{`kubeconfig user "clusterUser_rg_aks" runs kubelogin, which is not on PATH; install it`}},
	}
	for _, tc := range tests {
		for _, command := range [][]string{{"bsl"}, {"identity", "status"}, {"restart"}, {"triage"}} {
			t.Run(filepath.Base(tc.kubeconfig)+" "+strings.Join(command, " "), func(t *testing.T) {
				out, errOut, err := runReal(t, append([]string{"--kubeconfig", tc.kubeconfig}, command...)...)
				expectRun(t, out, errOut, err, exitcode.InvalidInput, tc.want, []string{"no kubeconfig found", "unreachable"})
			})
		}
	}
}

func TestTimeoutFlagChecks(t *testing.T) {
	log := filepath.Join(t.TempDir(), "velero.log")
	if err := os.WriteFile(log, []byte("level=info msg=hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"triage", "--file", log, "--timeout", "1m"}, "--timeout bounds reading the cluster; it does not apply to --file"},
		{[]string{"bsl", "--timeout", "-1s"}, "--timeout must not be negative"},
		{[]string{"identity", "status", "--timeout", "-1s"}, "--timeout must not be negative"},
		{[]string{"trusted-access", "status", "--vault-id", "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/vault", "--timeout", "-1s", "--cluster-id", "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"}, "--timeout must not be negative"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f := &fakeFactory{client: unwiredCluster(true)}
			out, errOut, err := run(t, f, "", tc.args...)
			expectRun(t, out, errOut, err, exitcode.InvalidInput, []string{tc.want}, nil)
		})
	}
}

// ignoresContext is a bounded command whose Run never looks at its context.
type ignoresContext struct{ release chan struct{} }

func (ignoresContext) Complete(*cobra.Command, []string) error { return nil }
func (ignoresContext) Validate() error                         { return nil }
func (o ignoresContext) Run(context.Context) error             { <-o.release; return nil }
func (ignoresContext) limit() time.Duration                    { return 100 * time.Millisecond }

// TestTimeoutEndsARunThatIgnoresItsContext: --timeout ends the command even when what it waits on
// ignores cancellation.
func TestTimeoutEndsARunThatIgnoresItsContext(t *testing.T) {
	old := stopGrace
	stopGrace = 100 * time.Millisecond
	t.Cleanup(func() { stopGrace = old })
	o := ignoresContext{release: make(chan struct{})}
	defer close(o.release)
	cmd := &cobra.Command{Use: "stuck", RunE: runE(o)}
	cmd.SetContext(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.RunE(cmd, nil) }()
	select {
	case err := <-done:
		expectRun(t, "", "", err, exitcode.Failed, []string{"gave up after --timeout 100ms: context deadline exceeded, and the command did not stop within 100ms of it"}, nil)
	case <-time.After(60 * time.Second):
		t.Fatal("the command did not end")
	}
}
