package azurecheck

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
)

func TestCheckPermissions(t *testing.T) {
	container := azurefake.AccountID + "/blobServices/default/containers/velero"
	needs := []Need{
		{Action: ActionWriteFederatedCredential, Scope: azurefake.IdentityID},
		{Action: ActionWriteFederatedCredential, Scope: azurefake.IdentityID},
		{Action: ActionWriteRoleAssignment, Scope: container},
	}
	contributor := azure.Permission{Actions: []string{"*"}, NotActions: []string{"Microsoft.Authorization/*/Write"}}
	sub := "/subscriptions/" + azurefake.Subscription
	cases := []struct {
		name        string
		perms       map[string][]azure.Permission
		fail        error
		wantMissing []string
		unreadable  int
	}{
		{name: "an owner may do everything"},
		{name: "a contributor may not assign roles", perms: map[string][]azure.Permission{strings.ToLower(sub): {contributor}},
			wantMissing: []string{ActionWriteRoleAssignment + " on " + container}},
		{name: "a role on the account covers its container", perms: map[string][]azure.Permission{strings.ToLower(sub): {contributor},
			strings.ToLower(azurefake.AccountID): {{Actions: []string{"Microsoft.Authorization/roleAssignments/*"}}}}},
		{name: "nothing granted: every action once", perms: map[string][]azure.Permission{},
			wantMissing: []string{ActionWriteFederatedCredential + " on " + azurefake.IdentityID, ActionWriteRoleAssignment + " on " + container}},
		{name: "unreadable permissions warn, ARM enforces", fail: &azure.PermissionError{Action: "Microsoft.Authorization/permissions/read", Scope: container}, unreadable: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := azurefake.AKSBackup()
			c.Permissions = tc.perms
			if tc.fail != nil {
				c.Errors = map[string]error{"ListPermissions": tc.fail}
			}
			check, err := CheckPermissions(context.Background(), c, needs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range check.Missing {
				got = append(got, m.Action+" on "+m.Scope)
			}
			if strings.Join(got, "|") != strings.Join(tc.wantMissing, "|") || len(check.Unreadable) != tc.unreadable {
				t.Fatalf("missing %v, unreadable %v; want %v and %d unreadable", got, check.Unreadable, tc.wantMissing, tc.unreadable)
			}
			if c.Calls["ListPermissions"] > 2 {
				t.Errorf("asked %d times for 2 scopes", c.Calls["ListPermissions"])
			}
			err = check.Err()
			if (err != nil) != (len(tc.wantMissing) > 0) {
				t.Fatalf("Err() = %v", err)
			}
			if err != nil {
				for _, want := range []string{"nothing was changed", ActionWriteRoleAssignment, "az role assignment create --assignee <your-object-id> --role 'Role Based Access Control Administrator' --scope " + container} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q:\n%v", want, err)
					}
				}
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := azurefake.AKSBackup()
	c.Errors = map[string]error{"ListPermissions": context.Canceled}
	if _, err := CheckPermissions(ctx, c, needs); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled check must stop, got %v", err)
	}
}

func TestCheckProviders(t *testing.T) {
	c := azurefake.AKSBackup()
	fs, err := CheckProviders(context.Background(), c, azurefake.Subscription)
	if err != nil || len(fs) != 0 {
		t.Fatalf("registered providers: %+v, %v", fs, err)
	}
	c.Providers = map[string]string{"microsoft.dataprotection": "NotRegistered"}
	fs, err = CheckProviders(context.Background(), c, azurefake.Subscription)
	if err != nil || len(fs) != 1 || fs[0].ID != "resource-provider-not-registered" {
		t.Fatalf("findings %+v, %v", fs, err)
	}
	if want := "az provider register --namespace Microsoft.DataProtection --subscription " + azurefake.Subscription; len(fs[0].Remediation) == 0 || fs[0].Remediation[0] != want {
		t.Fatalf("fix %v, want %q", fs[0].Remediation, want)
	}
	c.Providers = nil
	c.Errors = map[string]error{"ProviderState": &azure.PermissionError{Action: "Microsoft.Resources/subscriptions/providers/read"}}
	fs, err = CheckProviders(context.Background(), c, azurefake.Subscription)
	if err != nil || len(fs) != 2 || fs[0].ID != "azure-read-failed" {
		t.Fatalf("unreadable providers must not read as unregistered: %+v, %v", fs, err)
	}
}

func TestPlanConfigureListsItsNeedsAndHasNoServerDryRun(t *testing.T) {
	c := azurefake.AKSBackup()
	ap, err := PlanConfigure(c, gather(t, c), aksProfile(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var roleScope string
	for _, ch := range ap.Changes {
		if !ch.NoServerDryRun {
			t.Errorf("%s %s can be sent with a server dry run: ARM has none", ch.Action, ch.Object)
		}
		if ch.Phase == PhaseRoleAssignment {
			roleScope = strings.TrimPrefix(ch.Reason, "scope ")
		}
	}
	want := []Need{{Action: ActionWriteFederatedCredential, Scope: azurefake.IdentityID}, {Action: ActionWriteRoleAssignment, Scope: roleScope}}
	if roleScope == "" || len(ap.Needs) != 2 || ap.Needs[0] != want[0] || ap.Needs[1] != want[1] {
		t.Fatalf("needs %+v, want %+v", ap.Needs, want)
	}
	// Nothing to create: nothing to check.
	c = azurefake.AKSBackup().Wire(aksProfile(t).Namespace, "dataprotection-microsoft-controller-sa", "dataprotection-microsoft-kubernetes-agent-server", "dataprotection-microsoft-geneva-sa")
	if ap, err = PlanConfigure(c, gather(t, c), aksProfile(t), nil); err != nil || len(ap.Changes) != 0 || len(ap.Needs) != 0 {
		t.Fatalf("wired: changes %d needs %+v, %v", len(ap.Changes), ap.Needs, err)
	}
}

// namedCaller is the fake with a caller that can name itself, as the SDK client can.
type namedCaller struct{ *azurefake.Client }

func (namedCaller) CallerObjectID(context.Context) (string, error) {
	return "adadadad-0000-4000-8000-0000000000aa", nil
}

func TestPermissionFixNamesTheCaller(t *testing.T) {
	c := azurefake.AKSBackup()
	c.Permissions = map[string][]azure.Permission{}
	check, err := CheckPermissions(context.Background(), namedCaller{c}, []Need{{Action: ActionWriteRoleAssignment, Scope: azurefake.AccountID}})
	if err != nil {
		t.Fatal(err)
	}
	msg := check.Err().Error()
	if !strings.Contains(msg, "--assignee adadadad-0000-4000-8000-0000000000aa --role") || strings.Contains(msg, "<your-object-id>") {
		t.Fatalf("fix does not name the caller:\n%s", msg)
	}
}
