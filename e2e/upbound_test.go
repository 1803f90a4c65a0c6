package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

const mxpController = "mxp-controller"

// upboundStatus is `identity status --profile upbound-spaces -n ns -o json`.
func upboundStatus(t *testing.T, lab *labtest.Lab, ns string) (statusDoc, result) {
	t.Helper()
	r := aksbackup(t, lab, "identity", "status", "--profile", "upbound-spaces", "-n", ns, "-o", "json")
	var doc statusDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("identity status -o json is not JSON: %v\n%s", err, r)
	}
	return doc, r
}

// mxpVersions records the mxp-controller objects' resourceVersions (pods too: a restart replaces them).
func mxpVersions(t *testing.T, client kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	sa, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, mxpController, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out["sa/"+mxpController] = sa.ResourceVersion
	d, err := client.AppsV1().Deployments(ns).Get(ctx, mxpController, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out["deploy/"+mxpController] = d.ResourceVersion
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		out["pod/"+p.Name] = p.ResourceVersion
	}
	return out
}

// stringMap walks a values document down keys to a map of strings, as a chart template reads it.
func stringMap(t *testing.T, values map[string]any, keys ...string) map[string]string {
	t.Helper()
	node := values
	for _, k := range keys {
		next, ok := node[k].(map[string]any)
		if !ok {
			t.Fatalf("the values file has no map at %s: %v", strings.Join(keys, "."), values)
		}
		node = next
	}
	out := map[string]string{}
	for k, v := range node {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s.%s is %T, not a string (a chart would render a non-string label)", strings.Join(keys, "."), k, v)
		}
		out[k] = s
	}
	return out
}

func TestUpboundSpacesHelmValues(t *testing.T) {
	lab := labtest.Load(t)
	client := lab.Clientset(t)
	ctx := context.Background()
	ns := lab.NewControlPlaneNamespace(t)
	profileArgs := []string{"--profile", "upbound-spaces", "-n", ns}

	t.Run("status names the missing wiring", func(t *testing.T) {
		doc, r := upboundStatus(t, lab, ns)
		if r.code != 1 {
			t.Fatalf("want exit 1 on an un-wired control plane:\n%s", r)
		}
		for _, id := range []string{"wi-client-id-missing", "wi-label-missing", "helm-managed"} {
			if countFindings(doc, id) != 1 {
				t.Errorf("%s not reported once:\n%s", id, r)
			}
		}
	})

	var values map[string]any
	t.Run("configure prints the values and the helm line and changes nothing", func(t *testing.T) {
		before := mxpVersions(t, client, ns)
		r := aksbackup(t, lab, append([]string{"identity", "configure", "--client-id", clientID, "--no-azure", "--yes"}, profileArgs...)...)
		if r.code != 0 {
			t.Fatalf("configure:\n%s", r)
		}
		for _, want := range []string{
			"set these values in release spaces (namespace upbound-system)",
			"azure.workload.identity/client-id: " + clientID,
			`azure.workload.identity/use: "true"`,
			`helm upgrade spaces oci://xpkg.upbound.io/spaces-artifacts/spaces -n upbound-system --reuse-values ` +
				`--set-string 'controlPlanes.mxpController.serviceAccount.annotations.azure\.workload\.identity/client-id=` + clientID + `' ` +
				`--set-string 'controlPlanes.mxpController.pod.customLabels.azure\.workload\.identity/use=true'`,
			"The cluster objects in namespace " + ns + " were not changed",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r)
			}
		}
		assertUnchanged(t, before, mxpVersions(t, client, ns), "configure without --live-patch")

		v := aksbackup(t, lab, append([]string{"identity", "configure", "--client-id", clientID, "--no-azure", "-o", "helm-values"}, profileArgs...)...)
		if v.code != 0 {
			t.Fatalf("-o helm-values:\n%s", v)
		}
		if err := yaml.Unmarshal([]byte(v.stdout), &values); err != nil {
			t.Fatalf("-o helm-values is not a values file: %v\n%s", err, v)
		}
		annotations := stringMap(t, values, "controlPlanes", "mxpController", "serviceAccount", "annotations")
		labels := stringMap(t, values, "controlPlanes", "mxpController", "pod", "customLabels")
		if len(annotations) != 1 || annotations["azure.workload.identity/client-id"] != clientID || len(labels) != 1 || labels["azure.workload.identity/use"] != "true" {
			t.Errorf("values: annotations %v, labels %v\n%s", annotations, labels, v.stdout)
		}
		assertUnchanged(t, before, mxpVersions(t, client, ns), "-o helm-values")
	})

	t.Run("the values, applied as the chart would, make status healthy", func(t *testing.T) {
		if values == nil {
			t.Skip("no values file")
		}
		// The lab has no Spaces chart: do what its templates do with these two values.
		sa, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, mxpController, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range stringMap(t, values, "controlPlanes", "mxpController", "serviceAccount", "annotations") {
			sa.Annotations[k] = v
		}
		if _, err := client.CoreV1().ServiceAccounts(ns).Update(ctx, sa, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		d, err := client.AppsV1().Deployments(ns).Get(ctx, mxpController, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range stringMap(t, values, "controlPlanes", "mxpController", "pod", "customLabels") {
			d.Spec.Template.Labels[k] = v
		}
		if _, err := client.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		lab.WaitRollout(t, ns, mxpController)
		doc, r := upboundStatus(t, lab, ns)
		if r.code != 0 || doc.Summary.Errors != 0 || len(doc.Components) != 1 || doc.Components[0].InjectedPods != 1 || doc.Components[0].ClientID != clientID {
			t.Fatalf("status after the values rolled out:\n%s", r)
		}
		// Nothing left for configure to do on the cluster, and it says so without touching it.
		before := mxpVersions(t, client, ns)
		again := aksbackup(t, lab, append([]string{"identity", "configure", "--client-id", clientID, "--no-azure", "--yes"}, profileArgs...)...)
		if again.code != 0 {
			t.Fatalf("configure after the values:\n%s", again)
		}
		assertUnchanged(t, before, mxpVersions(t, client, ns), "configure after the values")
	})

	t.Run("--live-patch wires a fresh control plane live and warns about the revert", func(t *testing.T) {
		fresh := lab.NewControlPlaneNamespace(t)
		r := aksbackup(t, lab, "identity", "configure", "--profile", "upbound-spaces", "-n", fresh, "--client-id", clientID, "--no-azure", "--yes", "--live-patch")
		if r.code != 0 {
			t.Fatalf("configure --live-patch:\n%s", r)
		}
		for _, want := range []string{"annotate", "label", "Applied 2 change(s)", "Verified: 1/1 pods"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r)
			}
		}
		if !strings.Contains(r.stderr, "the next `helm upgrade` of release spaces reverts them") {
			t.Errorf("stderr lacks the revert warning:\n%s", r)
		}
		doc, st := upboundStatus(t, lab, fresh)
		if st.code != 0 || doc.Summary.Errors != 0 {
			t.Fatalf("status after --live-patch:\n%s", st)
		}
	})
}
