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

// TestTriageReadsVeleroJSONLogs: Velero run with --log-format=json writes one JSON object per line.
// With a wired identity and then a missing container, live triage names container-not-found first
// from those lines (no JSON line is joined to another, none is taken for a success of another
// location); after the fix, the success lines resolve it and triage exits 0. The Azure scenario is
// global to the lab, so this test does not run in parallel with other Azure tests.
func TestTriageReadsVeleroJSONLogs(t *testing.T) {
	lab := labtest.Load(t)
	if lab.BlobURL == "" {
		t.Fatal("the lab runs without Azurite; rerun e2e/scripts/build-tools.sh")
	}
	ns := lab.NewFixtureNamespace(t, "json")
	agent := deployments[1]
	lab.AzureScenario(t, "wired", ns)
	if r := aksbackup(t, lab, "identity", "configure", "-n", ns, "--client-id", clientID, "--yes", "--timeout", "3m"); r.code != 0 {
		t.Fatalf("configure:\n%s", r)
	}
	// Velero's own flag, on the velero container: the double reads it from the pod spec.
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"velero","args":["server","--log-format=json"]}]}}}}`
	if _, err := lab.Clientset(t).AppsV1().Deployments(ns).Patch(context.Background(), agent, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	lab.WaitRollout(t, ns, agent)
	lab.WaitBSL(t, ns, "default", 90*time.Second, func(st labtest.BSLStatus) bool { return st.Phase == "Available" })

	lab.AzureScenario(t, "wired", ns, "container-missing")
	lab.WaitBSL(t, ns, "default", 90*time.Second, func(st labtest.BSLStatus) bool { return st.Phase == "Unavailable" })

	// triage polls until the fault's lines are in the log, then checks what it shows.
	triage := func(t *testing.T, done func(code int, doc triageDoc) bool) (triageDoc, result) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			r := aksbackup(t, lab, "triage", "-n", ns, "-o", "json")
			var doc triageDoc
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatalf("triage output: %v\n%s", err, r)
			}
			if done(r.code, doc) {
				return doc, r
			}
			if time.Now().After(deadline) {
				t.Fatalf("triage never got there:\n%s", r)
			}
			time.Sleep(2 * time.Second)
		}
	}

	t.Run("the root cause first, from JSON lines", func(t *testing.T) {
		doc, r := triage(t, func(code int, doc triageDoc) bool {
			return code == 1 && len(doc.Findings) > 0 && doc.Findings[0].ID == "container-not-found"
		})
		first := doc.Findings[0]
		if first.Severity != "error" || first.Resolved || len(first.Evidence) == 0 || !strings.Contains(doc.Source, "container velero") {
			t.Errorf("first finding %+v from %q\n%s", first, doc.Source, r)
		}
		jsonEvidence := false
		for _, e := range first.Evidence {
			jsonEvidence = jsonEvidence || strings.HasPrefix(e, `{"backup-storage-location":`)
		}
		if !jsonEvidence {
			t.Errorf("no evidence from a JSON log line (is the double writing JSON?): %q", first.Evidence)
		}
	})

	t.Run("after the fix a success resolves it", func(t *testing.T) {
		lab.AzureScenario(t, "wired", ns)
		w := aksbackup(t, lab, "bsl", "-n", ns, "--wait-available", "--timeout", "2m", "--poll-interval", "1s")
		if w.code != 0 {
			t.Fatalf("bsl --wait-available after the fix:\n%s", w)
		}
		doc, r := triage(t, func(code int, doc triageDoc) bool { return code == 0 })
		found := false
		for _, f := range doc.Findings {
			if f.Severity == "error" {
				t.Errorf("still an error after the fix: %+v", f)
			}
			if f.ID == "container-not-found" {
				found = true
				if !f.Resolved {
					t.Errorf("container-not-found not marked resolved: %+v", f)
				}
			}
		}
		if !found {
			t.Errorf("the resolved cause is no longer reported:\n%s", r)
		}
	})
}
