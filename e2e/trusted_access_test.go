package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

const labVault = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/lab-rg/providers/Microsoft.DataProtection/backupVaults/lab-vault"

// TestTrustedAccessEndToEnd runs trusted-access status and create against the ARM double through
// the real SDK clients: the missing binding and roles are found, a dry run sends nothing, create
// makes the binding once, and a rerun changes nothing. The Azure scenario is global to the lab.
func TestTrustedAccessEndToEnd(t *testing.T) {
	lab := labtest.Load(t)
	lab.AzureScenario(t, "unwired", "dataprotection-microsoft")
	env := lab.AzureEnv(t)
	run := func(args ...string) result {
		return kubectlEnv(t, lab, env, append([]string{"aksbackup", "trusted-access"}, args...)...)
	}
	findingIDs := func(t *testing.T) []string {
		t.Helper()
		r := run("status", "--vault-id", labVault, "-o", "json")
		var doc struct {
			Findings []struct {
				ID string `json:"id"`
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 1 {
			t.Fatalf("status: %v\n%s", err, r)
		}
		var ids []string
		for _, f := range doc.Findings {
			ids = append(ids, f.ID)
		}
		return ids
	}
	has := func(ids []string, id string) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}

	if ids := findingIDs(t); !has(ids, "trusted-access-missing") || !has(ids, "backup-role-missing") {
		t.Fatalf("before: %v", ids)
	}
	if r := run("create", "--vault-id", labVault, "--dry-run"); r.code != 0 || !strings.Contains(r.stdout, "Dry run: nothing was sent") {
		t.Fatalf("dry run:\n%s", r)
	}
	if ids := findingIDs(t); !has(ids, "trusted-access-missing") {
		t.Fatalf("the dry run created the binding: %v", ids)
	}
	if r := run("create", "--vault-id", labVault, "--yes"); r.code != 0 || !strings.Contains(r.stdout, "Created Trusted Access binding trustedAccessRoleBinding/bv-lab-vault") {
		t.Fatalf("create:\n%s", r)
	}
	if ids := findingIDs(t); has(ids, "trusted-access-missing") || !has(ids, "backup-role-missing") {
		t.Fatalf("after create (the roles are still missing, the binding is not): %v", ids)
	}
	if r := run("create", "--vault-id", labVault, "--yes"); r.code != 0 || !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("rerun:\n%s", r)
	}
	if r := run("create", "--vault-id", "/subscriptions/x/bad", "--yes"); r.code != 2 || !strings.Contains(r.stderr, "not a Microsoft.DataProtection/backupVaults") {
		t.Fatalf("bad vault ID:\n%s", r)
	}
	if secret := lab.AdminSecret(t); strings.Contains(run("status", "--vault-id", labVault).stdout, secret) {
		t.Fatal("the admin secret was printed")
	}
}
