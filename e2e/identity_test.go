package e2e

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

const (
	clientID      = "c0ffee00-aaaa-4bbb-8ccc-000000000001"
	otherClientID = "c0ffee00-aaaa-4bbb-8ccc-000000000002"
)

var (
	serviceAccounts = []string{"dataprotection-microsoft-controller-sa", "dataprotection-microsoft-kubernetes-agent-server", "dataprotection-microsoft-geneva-sa"}
	deployments     = []string{"dataprotection-microsoft-controller", "dataprotection-microsoft-kubernetes-agent", "dataprotection-microsoft-geneva-service"}
)

// statusDoc is the part of `identity status -o json` the tests read.
type statusDoc struct {
	Kind       string
	Components []struct {
		ServiceAccount, Deployment, ClientID string
		PodTemplateLabel                     bool
		InjectedPods                         int
		Pods                                 []struct {
			Name, ClientID, TenantID, TokenFile, AuthorityHost, Audience string
			Injected                                                     bool
		}
	}
	Findings []struct{ ID, Severity, Object string }
	Summary  struct{ Errors, Warnings int }
}

func status(t *testing.T, lab *labtest.Lab, ns string) (statusDoc, result) {
	t.Helper()
	r := aksbackup(t, lab, "identity", "status", "-n", ns, "-o", "json")
	var doc statusDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("identity status -o json is not JSON: %v\n%s", err, r)
	}
	return doc, r
}

func countFindings(doc statusDoc, id string) int {
	n := 0
	for _, f := range doc.Findings {
		if f.ID == id {
			n++
		}
	}
	return n
}

// resourceVersions records every fixture object's resourceVersion, to prove a command changed nothing.
func resourceVersions(t *testing.T, client kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, name := range serviceAccounts {
		sa, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out["sa/"+name] = sa.ResourceVersion
	}
	for _, name := range deployments {
		d, err := client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			continue // some tests delete one
		}
		out["deploy/"+name] = d.ResourceVersion
	}
	return out
}

func assertUnchanged(t *testing.T, before, after map[string]string, what string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed %s (resourceVersion %s -> %s)", what, k, v, after[k])
		}
	}
}

func TestIdentityConfigureEndToEnd(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, "wire")
	client := lab.Clientset(t)
	ctx := context.Background()

	// Unrelated metadata set beforehand must survive.
	sa, _ := client.CoreV1().ServiceAccounts(ns).Get(ctx, serviceAccounts[1], metav1.GetOptions{})
	sa.Annotations["example.com/owner"], sa.Labels["example.com/team"] = "backup-team", "storage"
	if _, err := client.CoreV1().ServiceAccounts(ns).Update(ctx, sa, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	d, _ := client.AppsV1().Deployments(ns).Get(ctx, deployments[1], metav1.GetOptions{})
	d.Spec.Template.Labels["example.com/tier"] = "backup"
	if _, err := client.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	lab.WaitRollout(t, ns, deployments[1])

	t.Run("status finds the missing wiring", func(t *testing.T) {
		doc, r := status(t, lab, ns)
		if r.code != 1 {
			t.Fatalf("want exit 1 on an unwired namespace:\n%s", r)
		}
		for _, id := range []string{"wi-client-id-missing", "wi-label-missing", "wi-not-injected"} {
			if n := countFindings(doc, id); n != 3 {
				t.Errorf("%s reported %d times, want once per pair:\n%s", id, n, r)
			}
		}
		table := aksbackup(t, lab, "identity", "status", "-n", ns)
		if table.code != 1 || !strings.Contains(table.stdout, "wi-label-missing") || !strings.Contains(table.stdout, "fix: kubectl aksbackup identity configure") {
			t.Errorf("table output:\n%s", table)
		}
	})

	t.Run("configure wires, restarts and verifies", func(t *testing.T) {
		r := aksbackup(t, lab, "identity", "configure", "-n", ns, "--client-id", clientID, "--yes", "--timeout", "3m")
		if r.code != 0 {
			t.Fatalf("configure failed:\n%s", r)
		}
		for _, want := range []string{"annotate", "label", "Applied 6 change(s)", "successfully rolled out", "Verified: 3/3 pods"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("configure output lacks %q:\n%s", want, r)
			}
		}
		if !strings.Contains(r.stderr, "Helm") {
			t.Errorf("no warning about the Helm-managed objects:\n%s", r)
		}
	})

	t.Run("status is healthy and shows the injected env", func(t *testing.T) {
		doc, r := status(t, lab, ns)
		if r.code != 0 || doc.Summary.Errors != 0 {
			t.Fatalf("want a healthy status:\n%s", r)
		}
		for _, c := range doc.Components {
			if c.ClientID != clientID || !c.PodTemplateLabel || c.InjectedPods != 1 {
				t.Errorf("component %s: %+v", c.Deployment, c)
			}
			for _, p := range c.Pods {
				if !p.Injected || p.ClientID != clientID || p.TenantID == "" || p.AuthorityHost == "" ||
					p.TokenFile != "/var/run/secrets/azure/tokens/azure-identity-token" || p.Audience != "api://AzureADTokenExchange" {
					t.Errorf("pod %s: %+v", p.Name, p)
				}
			}
		}
		table := aksbackup(t, lab, "identity", "status", "-n", ns)
		if !strings.Contains(table.stdout, "AZURE_CLIENT_ID="+clientID) {
			t.Errorf("table does not show the injected env:\n%s", table)
		}
	})

	t.Run("a second configure changes nothing", func(t *testing.T) {
		before := resourceVersions(t, client, ns)
		r := aksbackup(t, lab, "identity", "configure", "-n", ns, "--client-id", clientID, "--yes")
		if r.code != 0 || !strings.Contains(r.stdout, "No changes") {
			t.Fatalf("second configure:\n%s", r)
		}
		assertUnchanged(t, before, resourceVersions(t, client, ns), "an idempotent rerun")
	})

	t.Run("unrelated metadata survived", func(t *testing.T) {
		sa, _ := client.CoreV1().ServiceAccounts(ns).Get(ctx, serviceAccounts[1], metav1.GetOptions{})
		d, _ := client.AppsV1().Deployments(ns).Get(ctx, deployments[1], metav1.GetOptions{})
		if sa.Annotations["example.com/owner"] != "backup-team" || sa.Labels["example.com/team"] != "storage" || d.Spec.Template.Labels["example.com/tier"] != "backup" {
			t.Errorf("lost metadata: sa %v %v, template %v", sa.Labels, sa.Annotations, d.Spec.Template.Labels)
		}
		if sa.Annotations["meta.helm.sh/release-name"] != "azure-aks-backup" {
			t.Errorf("Helm ownership annotation lost: %v", sa.Annotations)
		}
	})

	t.Run("a conflicting client ID is refused without --overwrite", func(t *testing.T) {
		before := resourceVersions(t, client, ns)
		r := aksbackup(t, lab, "identity", "configure", "-n", ns, "--client-id", otherClientID, "--yes")
		if r.code != 2 || !strings.Contains(r.stderr, "--overwrite") || !strings.Contains(r.stderr, clientID) {
			t.Fatalf("want exit 2 naming the existing value and --overwrite:\n%s", r)
		}
		assertUnchanged(t, before, resourceVersions(t, client, ns), "a refused conflict")
	})

	t.Run("a user without patch rights is stopped before any write", func(t *testing.T) {
		user := lab.CreateLimitedUser(t, ns)
		before := resourceVersions(t, client, ns)
		r := aksbackup(t, lab, "identity", "configure", "-n", ns, "--client-id", otherClientID, "--overwrite", "--yes", "--as", user)
		if r.code != 2 || !strings.Contains(r.stderr, "lacks RBAC permission to patch serviceaccounts in namespace "+ns) {
			t.Fatalf("want an RBAC error naming the verb and resource:\n%s", r)
		}
		assertUnchanged(t, before, resourceVersions(t, client, ns), "an RBAC refusal")
	})

	t.Run("overwrite replaces the client ID and restarts", func(t *testing.T) {
		r := aksbackup(t, lab, "identity", "configure", "-n", ns, "--client-id", otherClientID, "--overwrite", "--yes", "--timeout", "3m")
		if r.code != 0 || !strings.Contains(r.stdout, "restart") {
			t.Fatalf("overwrite:\n%s", r)
		}
		doc, _ := status(t, lab, ns)
		for _, c := range doc.Components {
			for _, p := range c.Pods {
				if p.ClientID != otherClientID {
					t.Errorf("pod %s still runs with %s", p.Name, p.ClientID)
				}
			}
		}
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, "bad")
	client := lab.Clientset(t)
	missingDeployNS := lab.NewFixtureNamespace(t, "nodeploy")
	if err := client.AppsV1().Deployments(missingDeployNS).Delete(context.Background(), deployments[2], metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	closedPort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}()

	tests := []struct {
		name    string
		ns      string
		args    []string
		code    int
		message string
	}{
		{"malformed GUID", ns, []string{"--client-id", "not-a-guid"}, 2, `--client-id "not-a-guid" is not a GUID`},
		{"missing namespace", ns, []string{"--client-id", clientID, "-n", "no-such-namespace"}, 2, `"no-such-namespace" does not exist`},
		{"missing deployment", missingDeployNS, []string{"--client-id", clientID}, 2, "deployment " + deployments[2] + " not found in namespace " + missingDeployNS},
		{"unreachable API server", ns, []string{"--client-id", clientID, "--server", "https://" + closedPort}, 3, "API server unreachable at https://" + closedPort},
		{"context that does not exist", ns, []string{"--client-id", clientID, "--context", "no-such-context"}, 2, `context "no-such-context" does not exist`},
		{"unknown phase", ns, []string{"--client-id", clientID, "--skip-phases", "federate"}, 2, `unknown phase "federate"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := resourceVersions(t, client, tc.ns)
			args := append([]string{"identity", "configure", "--yes", "-n", tc.ns}, tc.args...)
			r := aksbackup(t, lab, args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.message) {
				t.Fatalf("want exit %d and %q:\n%s", tc.code, tc.message, r)
			}
			if strings.Contains(r.stderr, "panic") || strings.Count(r.stderr, "\n") > 6 {
				t.Errorf("error output should be short and clear:\n%s", r.stderr)
			}
			assertUnchanged(t, before, resourceVersions(t, client, tc.ns), tc.name)
		})
	}
}

func TestRestartReplacesPods(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, "restart")
	client := lab.Clientset(t)
	podNames := func() map[string]bool {
		pods, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil {
				out[p.Name] = true
			}
		}
		return out
	}
	before := podNames()
	dry := aksbackup(t, lab, "restart", "-n", ns, "--dry-run=server")
	if dry.code != 0 || strings.Count(dry.stdout, "restarted (server dry run)") != 3 {
		t.Fatalf("server dry run:\n%s", dry)
	}
	r := aksbackup(t, lab, "restart", "-n", ns, "--timeout", "3m")
	if r.code != 0 || strings.Count(r.stdout, "successfully rolled out") != 3 {
		t.Fatalf("restart:\n%s", r)
	}
	for name := range podNames() {
		if before[name] {
			t.Errorf("pod %s survived the restart", name)
		}
	}
	if got := aksbackup(t, lab, "restart", "-n", ns, "--profile", "velero"); got.code != 2 {
		t.Errorf("restart of a profile that is not installed: %s", got)
	}
}
