package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/azurelab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

// labARMState reads what the lab's ARM double holds: credentials, role assignments, bindings, and every
// write it accepted.
func labARMState(t *testing.T, lab *labtest.Lab) azurelab.State {
	t.Helper()
	resp, err := labHTTPClient(t, lab).Get(lab.ARMURL + "_lab/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s azurelab.State
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func assertNoARMWrites(t *testing.T, before, after azurelab.State, what string) {
	t.Helper()
	if len(after.Writes) != 0 || len(after.Credentials) != len(before.Credentials) || len(after.Assignments) != len(before.Assignments) || len(after.Bindings) != len(before.Bindings) {
		t.Fatalf("%s changed Azure: writes %v; credentials %d -> %d, role assignments %d -> %d, bindings %d -> %d", what, after.Writes,
			len(before.Credentials), len(after.Credentials), len(before.Assignments), len(after.Assignments), len(before.Bindings), len(after.Bindings))
	}
}

// TestAzurePermissions: configure asks ARM what the caller may do before the first write. A
// Contributor (who may create federated credentials but, by its notActions, no role assignments) is
// refused with exit 2 naming the missing action and scope, and neither ARM nor the cluster changes.
// A server dry run sends the Kubernetes changes with dryRun=All and no Azure change at all, and says
// so. A resource provider that is not registered is reported with its az provider register fix.
func TestAzurePermissions(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, "perms")
	env := lab.AzureEnv(t)
	run := func(args ...string) result { return kubectlEnv(t, lab, env, append([]string{"aksbackup"}, args...)...) }

	t.Run("a Contributor is refused before any write: exit 2, the missing action and scope, nothing created", func(t *testing.T) {
		lab.AzureScenario(t, "unwired", ns, "caller-contributor")
		armBefore, kubeBefore := labARMState(t, lab), resourceVersions(t, lab.Clientset(t), ns)
		r := run("identity", "configure", "-n", ns, "--yes", "--timeout", "3m")
		if r.code != 2 {
			t.Fatalf("want exit 2:\n%s", r)
		}
		for _, want := range []string{"Microsoft.Authorization/roleAssignments/write on " + azurelab.AccountID, "nothing was changed", "az role assignment create --assignee " + azurelab.AdminObjectID} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r)
			}
		}
		if strings.Contains(r.stderr, "federatedIdentityCredentials/write on") {
			t.Errorf("a Contributor may create federated credentials:\n%s", r)
		}
		assertNoARMWrites(t, armBefore, labARMState(t, lab), "the refused configure")
		assertUnchanged(t, kubeBefore, resourceVersions(t, lab.Clientset(t), ns), "the refused configure")
	})

	t.Run("a client dry run checks the permissions too", func(t *testing.T) {
		lab.AzureScenario(t, "unwired", ns, "caller-contributor")
		r := run("identity", "configure", "-n", ns, "--dry-run=client", "--timeout", "3m")
		if r.code != 2 {
			t.Fatalf("a client dry run checks permissions too:\n%s", r)
		}
	})

	t.Run("--dry-run=server: Kubernetes with dryRun=All, Azure not sent and said so, nothing persisted", func(t *testing.T) {
		lab.AzureScenario(t, "unwired", ns)
		armBefore, kubeBefore := labARMState(t, lab), resourceVersions(t, lab.Clientset(t), ns)
		r := run("identity", "configure", "-n", ns, "--dry-run=server", "--timeout", "3m")
		if r.code != 0 {
			t.Fatalf("%s", r)
		}
		for _, want := range []string{"not-sent", "ARM has no server-side dry run", "Checked instead: your permissions on each scope", "sent with dryRun=All"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r)
			}
		}
		if strings.Contains(r.stdout, "accepted every change") {
			t.Errorf("claims the server accepted the Azure changes:\n%s", r)
		}
		assertNoARMWrites(t, armBefore, labARMState(t, lab), "the server dry run")
		assertUnchanged(t, kubeBefore, resourceVersions(t, lab.Clientset(t), ns), "the server dry run")

		r = run("trusted-access", "create", "--vault-id", labVault, "--dry-run=server")
		if r.code != 0 || !strings.Contains(r.stdout, "not-sent") || !strings.Contains(r.stdout, "ARM has no server-side dry run") {
			t.Fatalf("trusted-access create --dry-run=server:\n%s", r)
		}
		assertNoARMWrites(t, armBefore, labARMState(t, lab), "trusted-access create --dry-run=server")
	})

	t.Run("an unregistered resource provider is resource-provider-not-registered with its az fix", func(t *testing.T) {
		lab.AzureScenario(t, "wired", ns, "provider-dataprotection-unregistered")
		fix := "az provider register --namespace Microsoft.DataProtection --subscription " + azurelab.Subscription
		for _, args := range [][]string{{"identity", "status", "-n", ns, "-o", "json"}, {"trusted-access", "status", "--vault-id", labVault, "-o", "json"}} {
			r := run(args...)
			var doc struct {
				Findings []struct {
					ID          string   `json:"id"`
					Remediation []string `json:"remediation"`
				} `json:"findings"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 1 {
				t.Fatalf("%v: %v\n%s", args, err, r)
			}
			found := false
			for _, f := range doc.Findings {
				found = found || (f.ID == "resource-provider-not-registered" && len(f.Remediation) > 0 && f.Remediation[0] == fix)
			}
			if !found {
				t.Errorf("%v: no resource-provider-not-registered with %q:\n%s", args, fix, r)
			}
		}
	})
}
