package plugin

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// TestIdentityUnconfigure: configure, then unconfigure: a client dry run sends nothing, the real
// run deletes what configure created in Azure and removes its annotation and label, and a rerun
// says No changes.
func TestIdentityUnconfigure(t *testing.T) {
	az := azurefake.AKSBackup()
	withAzure(t, az)
	client := unwiredCluster(true)
	f := &fakeFactory{client: client, rg: "lab-rg", cluster: "lab-aks"}
	if out, _, err := run(t, f, "", "identity", "configure", "--yes", "--wait=false"); err != nil {
		t.Fatalf("configure: %v\n%s", err, out)
	}

	before := patches(client)
	out, _, err := run(t, f, "", "identity", "unconfigure", "--dry-run=client")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if patches(client) != before || az.Calls["DeleteFederatedCredential"]+az.Calls["DeleteRoleAssignment"] != 0 || !strings.Contains(out, "Dry run (client)") {
		t.Fatalf("a client dry run sent something: %d patches, %v\n%s", patches(client)-before, az.Calls, out)
	}
	for _, want := range []string{"service-account", "pod-label", "role-assignment", "federated-credential", "aksbackup-dataprotection-microsoft-geneva-sa", azurefake.IdentityClientID} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}

	// A caller that may delete credentials but not role assignments is stopped before any write.
	az.Permissions = map[string][]azure.Permission{"/subscriptions/" + azurefake.Subscription: {{Actions: []string{"Microsoft.ManagedIdentity/*", "*/read"}}}}
	_, _, err = run(t, f, "", "identity", "unconfigure", "--yes", "--wait=false")
	if exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "you lack Microsoft.Authorization/roleAssignments/delete") ||
		patches(client) != before || az.Calls["DeleteFederatedCredential"]+az.Calls["DeleteRoleAssignment"] != 0 {
		t.Fatalf("missing delete right: %v, %d patches, %v", err, patches(client)-before, az.Calls)
	}
	az.Permissions = nil

	out, _, err = run(t, f, "", "identity", "unconfigure", "--yes", "--wait=false")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if az.Calls["DeleteFederatedCredential"] != 3 || az.Calls["DeleteRoleAssignment"] != 1 || !strings.Contains(out, "Applied 10 change(s)") {
		t.Fatalf("calls %v\n%s", az.Calls, out)
	}
	for key, creds := range az.Credentials {
		if len(creds) != 0 {
			t.Errorf("credentials left on %s: %+v", key, creds)
		}
	}
	if len(az.Assignments) != 0 {
		t.Errorf("assignments left: %+v", az.Assignments)
	}
	p, _ := profile.Resolve(profile.Selection{})
	for _, pair := range p.Pairs {
		sa, _ := client.CoreV1().ServiceAccounts(p.Namespace).Get(t.Context(), pair.ServiceAccount, metav1.GetOptions{})
		d, _ := client.AppsV1().Deployments(p.Namespace).Get(t.Context(), pair.Workload.Name, metav1.GetOptions{})
		if _, ok := sa.Annotations[identity.AnnotationClientID]; ok {
			t.Errorf("serviceaccount %s keeps %v", sa.Name, sa.Annotations)
		}
		if _, ok := d.Spec.Template.Labels[identity.LabelUse]; ok {
			t.Errorf("deployment %s keeps %v", d.Name, d.Spec.Template.Labels)
		}
	}

	out, _, err = run(t, f, "", "identity", "unconfigure", "--yes")
	if err != nil || !strings.Contains(out, "No changes") {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
}

// TestIdentityUnconfigureBadInput: each mistake exits 2 and changes nothing.
func TestIdentityUnconfigureBadInput(t *testing.T) {
	az := azurefake.AKSBackup().Wire("dataprotection-microsoft", "dataprotection-microsoft-controller-sa")
	withAzure(t, az)
	client := unwiredCluster(true)
	f := &fakeFactory{client: client, rg: "lab-rg", cluster: "lab-aks"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--skip-phases", "bogus"}, `unknown phase "bogus"`},
		{[]string{"--no-azure"}, "--client-id is required"},
		{[]string{"--no-azure", "--client-id", "not-a-guid"}, "is not a GUID"},
		{[]string{"--yes=false", "-o", "json"}, "cannot prompt for confirmation"},
		{[]string{"--dry-run=maybe"}, "invalid --dry-run"},
		{[]string{"--client-id", "99999999-9999-9999-9999-999999999999"}, "is not the client ID of the backup identity"},
	}
	for _, tc := range tests {
		_, _, err := run(t, f, "", append([]string{"identity", "unconfigure", "--yes"}, tc.args...)...)
		if exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want exit 2 with %q", tc.args, err, tc.want)
		}
	}
	if patches(client) != 0 || az.Calls["DeleteFederatedCredential"]+az.Calls["DeleteRoleAssignment"] != 0 {
		t.Fatalf("bad input changed something: %d patches, %v", patches(client), az.Calls)
	}
}

// TestIdentityUnconfigurePartialFailure: when a deletion fails, the table says what was applied,
// what failed and what was not applied, and the JSON document carries the same states.
func TestIdentityUnconfigurePartialFailure(t *testing.T) {
	az := azurefake.AKSBackup()
	withAzure(t, az)
	client := unwiredCluster(true)
	f := &fakeFactory{client: client, rg: "lab-rg", cluster: "lab-aks"}
	if out, _, err := run(t, f, "", "identity", "configure", "--yes", "--wait=false"); err != nil {
		t.Fatalf("configure: %v\n%s", err, out)
	}
	az.Errors = map[string]error{"DeleteRoleAssignment": errors.New("the lab is down")}
	out, errOut, err := run(t, f, "", "identity", "unconfigure", "--yes", "--wait=false")
	if err == nil || !strings.Contains(err.Error(), "rerun the same command") || !strings.Contains(errOut, "Applying stopped: 6 applied, 1 failed, 3 not applied") {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}

	out, _, err = run(t, f, "", "identity", "unconfigure", "--yes", "--wait=false", "-o", "json")
	if err == nil {
		t.Fatal("the second attempt must fail too")
	}
	var doc UnconfigureResult
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	states := map[string]int{}
	for _, c := range doc.Plan.Changes {
		states[c.Phase+" "+string(c.State)]++
	}
	if states["role-assignment failed"] != 1 || states["federated-credential not-applied"] != 3 || doc.Kind != "IdentityUnconfigureResult" {
		t.Fatalf("states %v", states)
	}
}
