package plan

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestServerDryRunNeverSendsChangesWithoutADryRun(t *testing.T) {
	var sent []string
	apply := func(name string) func(context.Context, bool) error {
		return func(_ context.Context, dryRun bool) error {
			if !dryRun {
				t.Errorf("%s applied for real during a server dry run", name)
			}
			sent = append(sent, name)
			return nil
		}
	}
	p := &Plan{}
	p.Add(
		&Change{Phase: "federated-credential", Action: "create", Object: "federatedIdentityCredential/x", State: Planned, NoServerDryRun: true, Apply: apply("arm")},
		&Change{Phase: "annotate", Action: "annotate", Object: "serviceaccount/x", State: Planned, Apply: apply("kube")},
	)
	if err := p.Execute(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if strings.Join(sent, ",") != "kube" {
		t.Fatalf("sent %v: only the Kubernetes change has a server dry run", sent)
	}
	if p.Changes[0].State != NotSent || p.Changes[1].State != DryRun {
		t.Fatalf("states %s, %s; want not-sent, dry-run", p.Changes[0].State, p.Changes[1].State)
	}
	var b bytes.Buffer
	if err := p.WriteTable(&b, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "not-sent") || !strings.Contains(b.String(), "dry-run") {
		t.Fatalf("table:\n%s", b.String())
	}
	// Applying for real still calls every change.
	sent = nil
	q := &Plan{}
	q.Add(&Change{Action: "create", NoServerDryRun: true, Apply: func(context.Context, bool) error { sent = append(sent, "arm"); return nil }})
	if err := q.Execute(context.Background(), false); err != nil || len(sent) != 1 || q.Changes[0].State != Applied {
		t.Fatalf("real apply: %v %v %s", err, sent, q.Changes[0].State)
	}
}
