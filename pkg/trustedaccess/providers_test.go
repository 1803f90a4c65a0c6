package trustedaccess

import (
	"context"
	"strings"
	"testing"
)

func TestCheckReportsUnregisteredProviders(t *testing.T) {
	c, in := setup(t)
	c.Providers = map[string]string{"microsoft.kubernetesconfiguration": "NotRegistered", "microsoft.dataprotection": "Registering"}
	r, err := Check(context.Background(), c, in)
	if err != nil {
		t.Fatal(err)
	}
	var fixes []string
	for _, f := range r.Findings {
		if f.ID == "resource-provider-not-registered" {
			fixes = append(fixes, f.Remediation...)
		}
	}
	want := []string{"az provider register --namespace Microsoft.DataProtection --subscription 00000000-0000-0000-0000-000000000001",
		"az provider register --namespace Microsoft.KubernetesConfiguration --subscription 00000000-0000-0000-0000-000000000001"}
	if strings.Join(fixes, "\n") != strings.Join(want, "\n") {
		t.Fatalf("fixes:\n%s\nwant:\n%s", strings.Join(fixes, "\n"), strings.Join(want, "\n"))
	}
	if r.Summary.Errors < 2 {
		t.Fatalf("summary %+v", r.Summary)
	}
}

func TestPlanCreateHasNoServerDryRun(t *testing.T) {
	c, in := setup(t)
	p, _, err := PlanCreate(context.Background(), c, in.Cluster, in.Vault, "")
	if err != nil || p == nil {
		t.Fatalf("%v %v", p, err)
	}
	if err := p.Execute(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if p.Changes[0].State != "not-sent" || c.Calls["CreateTrustedAccessBinding"] != 0 {
		t.Fatalf("state %s, calls %v: a server dry run must not reach ARM", p.Changes[0].State, c.Calls)
	}
}
