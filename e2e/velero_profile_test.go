package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

// TestVeleroProfileWorkloads: the velero profile covers Velero's Deployment and its node-agent
// DaemonSet. Status names the missing wiring on both; configure (cluster half, --no-azure) labels
// both pod templates, and the DaemonSet's pods are really replaced; a rerun has nothing to do.
func TestVeleroProfileWorkloads(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewVeleroNamespace(t)
	client := lab.Clientset(t)
	const clientID = "0a1b2c3d-0000-4000-8000-000000000003"

	r := aksbackup(t, lab, "identity", "status", "--profile", "velero", "-n", ns, "--no-azure")
	if r.code != 1 {
		t.Fatalf("status before configure: want exit 1\n%s", r)
	}
	for _, want := range []string{"wi-label-missing  daemonset/node-agent", "wi-label-missing  deployment/velero", "wi-client-id-missing  serviceaccount/velero"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q\n%s", want, r)
		}
	}

	agentPods := func() map[string]bool {
		pods, err := client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "name=node-agent"})
		if err != nil {
			t.Fatal(err)
		}
		uids := map[string]bool{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil {
				uids[string(p.UID)] = true
			}
		}
		return uids
	}
	before := agentPods()
	if len(before) == 0 {
		t.Fatal("the node-agent daemonset runs no pod on the kwok node")
	}

	r = aksbackup(t, lab, "identity", "configure", "--profile", "velero", "-n", ns, "--no-azure", "--client-id", clientID, "--yes", "--timeout", "2m")
	if r.code != 0 {
		t.Fatalf("configure: %s", r)
	}
	for _, want := range []string{"daemonset/node-agent", `daemon set "node-agent" successfully rolled out`, `deployment "velero" successfully rolled out`, "Verified: 2/2 pods"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("configure output lacks %q\n%s", want, r)
		}
	}
	ds, err := client.AppsV1().DaemonSets(ns).Get(context.Background(), "node-agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Spec.Template.Labels["azure.workload.identity/use"] != "true" {
		t.Errorf("node-agent template labels %v", ds.Spec.Template.Labels)
	}
	for uid := range agentPods() {
		if before[uid] {
			t.Errorf("node-agent pod %s survived the rollout", uid)
		}
	}

	r = aksbackup(t, lab, "identity", "configure", "--profile", "velero", "-n", ns, "--no-azure", "--client-id", clientID, "--yes")
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "No changes") {
		t.Errorf("second configure: want No changes\n%s", r)
	}
	if r = aksbackup(t, lab, "identity", "status", "--profile", "velero", "-n", ns, "--no-azure"); r.code != 0 {
		t.Errorf("status after configure: want exit 0\n%s", r)
	}

	// The credentials secret is judged by its key names: a client secret beside the workload identity
	// is named, and its value never printed.
	secretValue := "e2e-client-secret-value-never-printed"
	patched := fixture.VeleroCredentials + "AZURE_CLIENT_SECRET=" + secretValue + "\n"
	secrets := lab.Clientset(t).CoreV1().Secrets(ns)
	sec, err := secrets.Get(context.Background(), "cloud-credentials", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data = map[string][]byte{"cloud": []byte(patched)}
	if _, err := secrets.Update(context.Background(), sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"table", "json"} {
		r = aksbackup(t, lab, "identity", "status", "--profile", "velero", "-n", ns, "--no-azure", "-o", format)
		if r.code != 1 || !strings.Contains(r.stdout, "velero-credentials-client-secret") {
			t.Errorf("status -o %s with a client secret in cloud-credentials:\n%s", format, r)
		}
		if strings.Contains(r.stdout+r.stderr, secretValue) {
			t.Errorf("status -o %s printed the secret's value", format)
		}
	}
}
