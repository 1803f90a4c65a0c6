package e2e

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

// deploymentRevision is the annotation the deployment controller (not the plugin) bumps on every
// rollout: returning to an earlier template makes its old ReplicaSet the newest revision.
const deploymentRevision = "deployment.kubernetes.io/revision"

// clusterObjects renders what configure and unconfigure may touch: each fixture service account's
// labels and annotations, and each deployment's labels, annotations and spec. Left out, as written by
// the API server and controllers rather than the plugin: resourceVersion, generation, uid,
// creationTimestamp, managedFields, status, and the deployment controller's revision annotation.
func clusterObjects(t *testing.T, lab *labtest.Lab, ns string) string {
	t.Helper()
	client, ctx := lab.Clientset(t), context.Background()
	objects := map[string]any{}
	for _, name := range serviceAccounts {
		sa, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		objects["serviceaccount/"+name] = metav1.ObjectMeta{Labels: sa.Labels, Annotations: sa.Annotations}
	}
	for _, name := range deployments {
		d, err := client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		annotations := map[string]string{}
		for k, v := range d.Annotations {
			if k != deploymentRevision {
				annotations[k] = v
			}
		}
		objects["deployment/"+name] = map[string]any{"metadata": metav1.ObjectMeta{Labels: d.Labels, Annotations: annotations}, "spec": d.Spec}
	}
	data, err := json.MarshalIndent(objects, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// armState is the ARM double's federated credentials and role assignments, as it serves them, and
// how many writes (PUT and DELETE) it has accepted so far.
func armState(t *testing.T, lab *labtest.Lab) (string, int) {
	t.Helper()
	resp, err := labHTTPClient(t, lab).Get(lab.ARMURL + "_lab/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Credentials json.RawMessage `json:"credentials"`
		Assignments json.RawMessage `json:"assignments"`
		Writes      []string        `json:"writes"`
	}
	if err := json.Unmarshal(body, &state); err != nil {
		t.Fatalf("/_lab/state: %v", err)
	}
	// The double's state prints a list it never filled as null and one emptied by deletes as [];
	// ARM serves both as an empty list, so they compare equal.
	emptyAsNull := func(raw json.RawMessage) string {
		if string(raw) == "[]" {
			return "null"
		}
		return string(raw)
	}
	return "credentials: " + emptyAsNull(state.Credentials) + "\nassignments: " + emptyAsNull(state.Assignments), len(state.Writes)
}

// undoFixture is an unwired fixture namespace with ARM unwired, and a runner of `kubectl aksbackup`
// pointed at the lab's Azure doubles.
func undoFixture(t *testing.T, prefix string) (*labtest.Lab, string, func(...string) result) {
	t.Helper()
	lab := labtest.Load(t)
	ns := lab.NewFixtureNamespace(t, prefix)
	lab.AzureScenario(t, "unwired", ns)
	env := lab.AzureEnv(t)
	return lab, ns, func(args ...string) result { return kubectlEnv(t, lab, env, append([]string{"aksbackup"}, args...)...) }
}

// TestUnconfigureRoundTrip: configure then unconfigure leaves the fixture's service accounts and
// deployments, and the ARM double's credentials and role assignments, as they were, byte for byte
// (server-managed fields aside, see clusterObjects). A client dry run sends nothing; a rerun says
// No changes and writes nothing.
func TestUnconfigureRoundTrip(t *testing.T) {
	lab, ns, run := undoFixture(t, "undo")
	client, ctx := lab.Clientset(t), context.Background()

	// Unrelated metadata must come through untouched.
	sa, _ := client.CoreV1().ServiceAccounts(ns).Get(ctx, serviceAccounts[1], metav1.GetOptions{})
	sa.Annotations["example.com/owner"] = "backup-team"
	if _, err := client.CoreV1().ServiceAccounts(ns).Update(ctx, sa, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	d, _ := client.AppsV1().Deployments(ns).Get(ctx, deployments[1], metav1.GetOptions{})
	d.Spec.Template.Labels["example.com/tier"] = "backup"
	if _, err := client.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	lab.WaitRollout(t, ns, deployments[1])

	clusterBefore := clusterObjects(t, lab, ns)
	azureBefore, _ := armState(t, lab)

	if r := run("identity", "configure", "-n", ns, "--yes", "--timeout", "3m"); r.code != 0 || !strings.Contains(r.stdout, "Verified: 3/3") {
		t.Fatalf("configure:\n%s", r)
	}
	azureConfigured, writes := armState(t, lab)
	if clusterObjects(t, lab, ns) == clusterBefore || azureConfigured == azureBefore {
		t.Fatal("configure changed nothing: the round trip would prove nothing")
	}

	t.Run("a client dry run prints the plan and sends nothing", func(t *testing.T) {
		versions := resourceVersions(t, client, ns)
		r := run("identity", "unconfigure", "-n", ns, "--dry-run=client")
		if r.code != 0 || !strings.Contains(r.stdout, "Dry run (client)") {
			t.Fatalf("dry run:\n%s", r)
		}
		for _, want := range []string{"service-account", "pod-label", "role-assignment", "federated-credential", "delete", clientID} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("plan lacks %q:\n%s", want, r.stdout)
			}
		}
		assertUnchanged(t, versions, resourceVersions(t, client, ns), "a client dry run")
		if state, n := armState(t, lab); n != writes || state != azureConfigured {
			t.Errorf("a client dry run wrote to ARM: %d writes, was %d", n, writes)
		}
	})

	t.Run("unconfigure restores the cluster and ARM exactly", func(t *testing.T) {
		r := run("identity", "unconfigure", "-n", ns, "--yes", "--timeout", "3m")
		if r.code != 0 || !strings.Contains(r.stdout, "Applied 10 change(s)") || !strings.Contains(r.stdout, "Verified: none of the 3 pod(s) runs with client ID "+clientID) {
			t.Fatalf("unconfigure:\n%s", r)
		}
		if after := clusterObjects(t, lab, ns); after != clusterBefore {
			t.Errorf("cluster objects differ after the round trip:\nbefore %s\nafter  %s", clusterBefore, after)
		}
		if after, _ := armState(t, lab); after != azureBefore {
			t.Errorf("ARM differs after the round trip:\nbefore %s\nafter  %s", azureBefore, after)
		}
	})

	t.Run("a rerun says No changes and writes nothing", func(t *testing.T) {
		versions := resourceVersions(t, client, ns)
		_, writes := armState(t, lab)
		r := run("identity", "unconfigure", "-n", ns, "--yes")
		if r.code != 0 || !strings.Contains(r.stdout, "No changes") {
			t.Fatalf("rerun:\n%s", r)
		}
		assertUnchanged(t, versions, resourceVersions(t, client, ns), "a rerun")
		if _, n := armState(t, lab); n != writes {
			t.Errorf("a rerun wrote to ARM: %d writes, was %d", n, writes)
		}
	})
}

// TestUnconfigureKeepsAHandChangedAnnotation: a client-id annotation changed by hand after configure
// is not configure's any more: unconfigure keeps it, says why, and undoes the rest.
func TestUnconfigureKeepsAHandChangedAnnotation(t *testing.T) {
	lab, ns, run := undoFixture(t, "undo-kept")
	client, ctx := lab.Clientset(t), context.Background()

	if r := run("identity", "configure", "-n", ns, "--yes", "--timeout", "3m"); r.code != 0 {
		t.Fatalf("configure:\n%s", r)
	}
	sa, _ := client.CoreV1().ServiceAccounts(ns).Get(ctx, serviceAccounts[0], metav1.GetOptions{})
	sa.Annotations["azure.workload.identity/client-id"] = otherClientID
	if _, err := client.CoreV1().ServiceAccounts(ns).Update(ctx, sa, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}

	r := run("identity", "unconfigure", "-n", ns, "--yes", "--timeout", "3m")
	if r.code != 0 {
		t.Fatalf("unconfigure:\n%s", r)
	}
	keptRow := ""
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "keep") && strings.Contains(line, "serviceaccount/"+serviceAccounts[0]) {
			keptRow = line
		}
	}
	if !strings.Contains(keptRow, "holds "+otherClientID) || !strings.Contains(r.stdout, "Applied 9 change(s)") {
		t.Fatalf("want a keep row naming the hand-set value, and the other 9 changes applied:\n%s", r)
	}
	sa, _ = client.CoreV1().ServiceAccounts(ns).Get(ctx, serviceAccounts[0], metav1.GetOptions{})
	if sa.Annotations["azure.workload.identity/client-id"] != otherClientID {
		t.Errorf("the hand-set client ID was removed: %v", sa.Annotations)
	}
	for _, name := range serviceAccounts[1:] {
		other, _ := client.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
		if _, ok := other.Annotations["azure.workload.identity/client-id"]; ok {
			t.Errorf("serviceaccount %s keeps configure's annotation: %v", name, other.Annotations)
		}
	}
	rerun := run("identity", "unconfigure", "-n", ns, "--yes")
	if rerun.code != 0 || !strings.Contains(rerun.stdout, "No changes") || !strings.Contains(rerun.stdout, "holds "+otherClientID) {
		t.Fatalf("rerun: want No changes and the kept row again:\n%s", rerun)
	}
}
