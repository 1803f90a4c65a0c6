package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

type triageDoc struct {
	Source    string `json:"source"`
	LinesRead int    `json:"linesRead"`
	Findings  []struct {
		ID       string   `json:"id"`
		Severity string   `json:"severity"`
		Count    int      `json:"count"`
		Evidence []string `json:"evidence"`
		Resolved bool     `json:"resolved"`
	} `json:"findings"`
}

type bslDoc struct {
	Locations []struct {
		Name     string `json:"name"`
		Phase    string `json:"phase"`
		Message  string `json:"message"`
		Findings []struct {
			ID string `json:"id"`
		} `json:"findings"`
	} `json:"backupStorageLocations"`
}

// TestTriageAndBSLNameTheRootCause breaks one fixture namespace in each way the lab can, lets the
// Velero double validate the BSL through the real chain (pod env, token exchange, blob call), then
// checks that `triage` (from the live cluster) and `bsl` name the right root cause first, and that
// after the fix `bsl --wait-available` returns 0. The Azure scenario is global to the lab, so this
// test does not run in parallel with other Azure tests.
func TestTriageAndBSLNameTheRootCause(t *testing.T) {
	lab := labtest.Load(t)
	if lab.BlobURL == "" {
		t.Fatal("the lab runs without Azurite; rerun e2e/scripts/build-tools.sh")
	}
	ns := lab.NewFixtureNamespace(t, "triage")
	client := lab.Clientset(t)
	ctx := context.Background()
	agent, agentSA := deployments[1], serviceAccounts[1]
	lab.AzureScenario(t, "wired", ns)
	patchSA := func(t *testing.T, patch string) {
		t.Helper()
		if _, err := client.CoreV1().ServiceAccounts(ns).Patch(ctx, agentSA, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	configure := func(t *testing.T) {
		t.Helper()
		if r := aksbackup(t, lab, "identity", "configure", "-n", ns, "--client-id", clientID, "--yes", "--timeout", "3m"); r.code != 0 {
			t.Fatalf("configure:\n%s", r)
		}
	}
	var lastTriage string
	steps := []struct {
		name   string
		inject func(t *testing.T)
		want   string
		fix    func(t *testing.T)
	}{
		{"no pod label", func(t *testing.T) {
			patchSA(t, `{"metadata":{"annotations":{"azure.workload.identity/client-id":"`+clientID+`"}}}`)
		}, "wi-not-injected", configure},
		{"no client-id annotation", func(t *testing.T) {
			patchSA(t, `{"metadata":{"annotations":{"azure.workload.identity/client-id":null}}}`)
			restart(t, lab, ns, agent)
		}, "wi-client-id-missing", configure},
		{"federated credential with the wrong issuer", func(t *testing.T) { lab.AzureScenario(t, "wired", ns, "issuer-no-trailing-slash") },
			"federated-credential-mismatch", func(t *testing.T) { lab.AzureScenario(t, "wired", ns) }},
		{"federated credential with the wrong subject", func(t *testing.T) { lab.AzureScenario(t, "wired", ns, "subject-wrong-namespace") },
			"federated-credential-mismatch", func(t *testing.T) { lab.AzureScenario(t, "wired", ns) }},
		{"blob data role missing", func(t *testing.T) { lab.AzureScenario(t, "wired", ns, "role-account-contributor-only") },
			"blob-data-role-missing", func(t *testing.T) { lab.AzureScenario(t, "wired", ns) }},
		{"container missing", func(t *testing.T) { lab.AzureScenario(t, "wired", ns, "container-missing") },
			"container-not-found", func(t *testing.T) { lab.AzureScenario(t, "wired", ns) }},
		{"storage network deny", func(t *testing.T) { lab.AzureScenario(t, "wired", ns, "network-deny") },
			"storage-network-blocked", func(t *testing.T) { lab.AzureScenario(t, "wired", ns) }},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.inject(t)
			// Wait until the double has validated with the fault in place and the cause is visible.
			lab.WaitBSL(t, ns, "default", 90*time.Second, func(st labtest.BSLStatus) bool { return st.Phase == "Unavailable" })
			var doc triageDoc
			deadline := time.Now().Add(60 * time.Second)
			for {
				r := aksbackup(t, lab, "triage", "-n", ns, "-o", "json")
				lastTriage = r.String()
				doc = triageDoc{}
				if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
					t.Fatalf("triage output: %v\n%s", err, r)
				}
				if r.code == 1 && len(doc.Findings) > 0 && doc.Findings[0].ID == step.want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("triage never named %s first:\n%s", step.want, lastTriage)
				}
				time.Sleep(2 * time.Second)
			}
			first := doc.Findings[0]
			if first.Severity != "error" || first.Count < 1 || len(first.Evidence) == 0 || len(first.Evidence) > 3 ||
				!strings.Contains(doc.Source, "container velero") || doc.LinesRead == 0 {
				t.Errorf("first finding %+v from %q (%d lines)", first, doc.Source, doc.LinesRead)
			}
			if last := doc.Findings[len(doc.Findings)-1]; last.ID != "bsl-unavailable" {
				t.Errorf("the symptom must come last, got %s", last.ID)
			}

			r := aksbackup(t, lab, "bsl", "-n", ns, "-o", "json")
			var b bslDoc
			if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || r.code != 1 || len(b.Locations) != 1 {
				t.Fatalf("bsl: %v\n%s", err, r)
			}
			loc := b.Locations[0]
			if loc.Phase != "Unavailable" || len(loc.Findings) == 0 || loc.Findings[0].ID != step.want {
				t.Errorf("bsl shows %s with %+v, want Unavailable caused by %s\n%s", loc.Phase, loc.Findings, step.want, r)
			}
			table := aksbackup(t, lab, "bsl", "-n", ns)
			if table.code != 1 || !strings.Contains(table.stdout, "Unavailable") || !strings.Contains(table.stdout, step.want) {
				t.Errorf("bsl table:\n%s", table)
			}

			step.fix(t)
			w := aksbackup(t, lab, "bsl", "-n", ns, "--wait-available", "--timeout", "2m", "--poll-interval", "1s")
			if w.code != 0 || !strings.Contains(w.stderr, "Available after") || !strings.Contains(w.stdout, "Available") {
				t.Fatalf("bsl --wait-available after the fix:\n%s", w)
			}
		})
		if t.Failed() {
			return
		}
	}

	t.Run("after the fixes, triage reports the old causes as resolved and exits 0", func(t *testing.T) {
		r := aksbackup(t, lab, "triage", "-n", ns, "-o", "json")
		var doc triageDoc
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
			t.Fatalf("%v\n%s", err, r)
		}
		for _, f := range doc.Findings {
			if f.Severity == "error" {
				t.Errorf("still an error after the fix: %+v", f)
			}
		}
	})
}

// TestTriageReadsEveryReplica: with two velero replicas, triage reads both pods' logs; --since and
// --previous select what the kubelet (here kwok) serves, and a log that cannot be read is a warning,
// not a failure, while the BSL message still names the cause.
func TestTriageReadsEveryReplica(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, "replicas")
	agent := deployments[1]
	if _, err := lab.Clientset(t).AppsV1().Deployments(ns).Patch(context.Background(), agent, types.MergePatchType,
		[]byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	lab.WaitRollout(t, ns, agent)
	lab.WaitBSLPhase(t, ns, "default", "Unavailable", 90*time.Second)
	pods, err := lab.Clientset(t).CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var agentPods []string
	for _, p := range pods.Items {
		if strings.HasPrefix(p.Name, agent+"-") {
			agentPods = append(agentPods, p.Name)
		}
	}
	if len(agentPods) != 2 {
		t.Fatalf("agent pods %v", agentPods)
	}

	r := aksbackup(t, lab, "triage", "-n", ns, "--since", "1h", "-o", "json")
	var doc triageDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 1 {
		t.Fatalf("%v\n%s", err, r)
	}
	for _, p := range agentPods {
		if !strings.Contains(doc.Source, "pod "+ns+"/"+p+" container velero") {
			t.Errorf("source %q does not name replica %s", doc.Source, p)
		}
	}
	if doc.Findings[0].ID != "wi-not-injected" {
		t.Errorf("first finding %s", doc.Findings[0].ID)
	}

	prev := aksbackup(t, lab, "triage", "-n", ns, "--previous")
	if prev.code != 1 || !strings.Contains(prev.stderr, "warning: could not read the previous logs of pod "+ns+"/") || !strings.Contains(prev.stdout, "wi-not-injected") {
		t.Errorf("--previous without a previous container:\n%s", prev)
	}
	if bad := aksbackup(t, lab, "triage", "-n", ns, "--since", "-5m"); bad.code != 2 || !strings.Contains(bad.stderr, "--since must be positive") {
		t.Errorf("negative --since:\n%s", bad)
	}
}
