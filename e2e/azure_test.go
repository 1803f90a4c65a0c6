package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

const extensionClientID = "c0ffee00-aaaa-4bbb-8ccc-000000000001"

// podToken is what the webhook's projected volume holds: a service-account token for the Entra audience.
func podToken(t *testing.T, lab *labtest.Lab, ns, sa string) string {
	t.Helper()
	exp := int64(3600)
	tr, err := lab.Clientset(t).CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), sa, &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{Audiences: []string{"api://AzureADTokenExchange"}, ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

func TestAzureSetupEndToEnd(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, "azure")
	lab.AzureScenario(t, "unwired", ns)
	env := lab.AzureEnv(t)
	secret := lab.AdminSecret(t)
	agentSA := serviceAccounts[1]
	var outputs []string
	run := func(args ...string) result {
		r := kubectlEnv(t, lab, env, append([]string{"aksbackup"}, args...)...)
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}

	t.Run("before: the token exchange fails and status names the missing credentials and role", func(t *testing.T) {
		if code, body := lab.ExchangeToken(t, extensionClientID, podToken(t, lab, ns, agentSA)); code != 400 || !strings.Contains(body, "AADSTS70021") {
			t.Fatalf("exchange before wiring: %d %s", code, body)
		}
		r := run("identity", "status", "-n", ns, "-o", "json")
		var doc statusDoc
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 1 {
			t.Fatalf("%v\n%s", err, r)
		}
		if countFindings(doc, "federated-credential-missing") != 3 || countFindings(doc, "blob-data-role-missing") != 1 {
			t.Fatalf("findings %+v", doc.Findings)
		}
	})

	t.Run("configure without --client-id creates 3 credentials and 1 role, then wires the cluster", func(t *testing.T) {
		r := run("identity", "configure", "-n", ns, "--yes", "--timeout", "3m")
		// Plan rows are matched word by word: their padding is the table printer's.
		words := strings.Join(strings.Fields(r.stdout), " ")
		if r.code != 0 || strings.Count(words, "federated-credential create") != 3 || strings.Count(words, "role-assignment create") != 1 ||
			!strings.Contains(r.stdout, "Applied 10 change(s)") || !strings.Contains(r.stdout, "Verified: 3/3") {
			t.Fatalf("configure:\n%s", r)
		}
		if !strings.Contains(r.stderr, "several minutes") {
			t.Errorf("no propagation note:\n%s", r.stderr)
		}
	})

	t.Run("after: the pod's token exchanges, status is healthy, a rerun changes nothing", func(t *testing.T) {
		token := lab.StorageToken(t, extensionClientID, podToken(t, lab, ns, agentSA))
		if code, errCode := lab.PutBlob(t, token, "velero", "probe-"+ns); code != 201 {
			t.Fatalf("blob write through the front: %d %s", code, errCode)
		}
		if r := run("identity", "status", "-n", ns); r.code != 0 {
			t.Fatalf("status:\n%s", r)
		}
		if r := run("identity", "configure", "-n", ns, "--yes"); r.code != 0 || !strings.Contains(r.stdout, "No changes") {
			t.Fatalf("rerun:\n%s", r)
		}
	})

	t.Run("a subject in another namespace fails the exchange with AADSTS700213", func(t *testing.T) {
		lab.AzureScenario(t, "wired", ns, "subject-wrong-namespace")
		if code, body := lab.ExchangeToken(t, extensionClientID, podToken(t, lab, ns, agentSA)); code != 400 || !strings.Contains(body, "AADSTS700213") {
			t.Fatalf("%d %s", code, body)
		}
	})

	blobDenials := []struct{ fault, code string }{
		{"network-deny", "AuthorizationFailure"},
		{"role-account-contributor-only", "AuthorizationPermissionMismatch"},
		{"role-sibling-scope", "AuthorizationPermissionMismatch"},
	}
	for _, d := range blobDenials {
		t.Run("blob write with "+d.fault+" answers "+d.code, func(t *testing.T) {
			lab.AzureScenario(t, "wired", ns, d.fault)
			token := lab.StorageToken(t, extensionClientID, podToken(t, lab, ns, agentSA))
			if code, errCode := lab.PutBlob(t, token, "velero", "denied"); code != 403 || errCode != d.code {
				t.Fatalf("%d %s", code, errCode)
			}
		})
	}

	faults := []struct{ fault, id string }{
		{"issuer-no-trailing-slash", "federated-credential-mismatch"},
		{"subject-wrong-namespace", "federated-credential-mismatch"},
		{"audience-wrong", "federated-credential-mismatch"},
		{"role-sibling-scope", "blob-data-role-missing"},
		{"role-account-contributor-only", "blob-data-role-missing"},
		{"oidc-issuer-disabled", "oidc-issuer-disabled"},
		{"workload-identity-disabled", "workload-identity-disabled"},
		{"extension-failed", "extension-not-succeeded"},
		{"network-deny", "storage-network-blocked"},
		{"shared-key-disabled", "shared-key-disabled"},
		{"container-missing", "container-not-found"},
	}
	for _, f := range faults {
		t.Run("fault "+f.fault+" is reported as "+f.id, func(t *testing.T) {
			lab.AzureScenario(t, "wired", ns, f.fault)
			r := run("identity", "status", "-n", ns, "-o", "json")
			var doc statusDoc
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 1 || countFindings(doc, f.id) == 0 {
				t.Fatalf("want %s:\n%s", f.id, r)
			}
		})
	}

	armErrors := []struct {
		name   string
		fault  map[string]any
		code   int
		stderr string
	}{
		{"403 names the action and scope", map[string]any{"pathContains": "managedClusters/lab-aks", "status": 403, "code": "AuthorizationFailed"}, 3,
			"you need Microsoft.ContainerService/managedClusters/read on /subscriptions/"},
		// A cluster ARM does not know is bad input (the cluster-not-found finding), not a failure.
		{"404 is cluster-not-found", map[string]any{"pathContains": "managedClusters/lab-aks", "status": 404, "code": "ResourceNotFound"}, 2, "cluster-not-found: AKS cluster"},
		{"429 is retried", map[string]any{"pathContains": "managedClusters/lab-aks", "status": 429, "code": "TooManyRequests", "times": 2}, 0, ""},
		{"500 is retried", map[string]any{"pathContains": "managedClusters/lab-aks", "status": 500, "code": "InternalServerError", "times": 2}, 0, ""},
		{"persistent 500 says so", map[string]any{"pathContains": "managedClusters/lab-aks", "status": 503, "code": "ServiceUnavailable"}, 3, "answered 503"},
	}
	for _, tc := range armErrors {
		t.Run("ARM "+tc.name, func(t *testing.T) {
			lab.AzureScenario(t, "wired", ns)
			lab.AzureFaults(t, tc.fault)
			before := resourceVersions(t, lab.Clientset(t), ns)
			r := run("identity", "configure", "-n", ns, "--yes", "--overwrite")
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("want exit %d and %q:\n%s", tc.code, tc.stderr, r)
			}
			assertUnchanged(t, before, resourceVersions(t, lab.Clientset(t), ns), tc.name)
		})
	}

	t.Run("no secret or token in any output", func(t *testing.T) {
		for _, out := range outputs {
			if strings.Contains(out, secret) || strings.Contains(out, "eyJ") {
				t.Fatalf("a secret or JWT leaked into output:\n%s", out)
			}
		}
	})
}
