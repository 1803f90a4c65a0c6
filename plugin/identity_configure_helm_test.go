package plugin

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

const controlPlaneNS = "mxp-lab-1"

// helmInstalledCluster is a profile's objects, un-wired and marked as a Helm release's, in ns.
func helmInstalledCluster(t *testing.T, name, ns string) *fake.Clientset {
	t.Helper()
	p, err := profile.Resolve(profile.Selection{Profile: name, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	helm := func(obj string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: obj, Namespace: ns,
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "Helm"},
			Annotations: map[string]string{"meta.helm.sh/release-name": "spaces", "meta.helm.sh/release-namespace": "upbound-system"}}
	}
	objs := []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}}
	for _, pair := range p.Pairs {
		labels := map[string]string{"app": pair.Workload.Name}
		meta := helm(pair.Workload.Name)
		meta.Generation = 1
		if !hasServiceAccount(objs, pair.ServiceAccount) { // velero's node-agent shares the server's
			objs = append(objs, &corev1.ServiceAccount{ObjectMeta: helm(pair.ServiceAccount)})
		}
		objs = append(objs,
			podController(pair.Workload, meta, corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{ServiceAccountName: pair.ServiceAccount, Containers: []corev1.Container{{Name: "c"}}}}),
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pair.Workload.Name + "-1", Namespace: ns, Labels: labels},
				Spec: corev1.PodSpec{ServiceAccountName: pair.ServiceAccount, Containers: []corev1.Container{{Name: "c"}}}},
		)
	}
	client := fake.NewClientset(objs...)
	client.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		review := action.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview)
		review.Status.Allowed = true
		return true, review, nil
	})
	return client
}

// writes counts the requests that would change the cluster (access reviews change nothing).
func writes(client *fake.Clientset) int {
	n := 0
	for _, a := range client.Actions() {
		switch a.GetVerb() {
		case "create", "update", "patch", "delete", "deletecollection":
			if a.GetResource().Resource != "selfsubjectaccessreviews" {
				n++
			}
		}
	}
	return n
}

const (
	spacesClientIDSet = `'controlPlanes.mxpController.serviceAccount.annotations.azure\.workload\.identity/client-id=` + clientID + `'`
	spacesLabelSet    = `'controlPlanes.mxpController.pod.customLabels.azure\.workload\.identity/use=true'`
	spacesHelmLine    = `helm upgrade spaces oci://xpkg.upbound.io/spaces-artifacts/spaces -n upbound-system --reuse-values --set-string ` + spacesClientIDSet + ` --set-string ` + spacesLabelSet
	veleroHelmLine    = `helm upgrade velero vmware-tanzu/velero -n velero --reuse-values ` +
		`--set-string 'serviceAccount.server.annotations.azure\.workload\.identity/client-id=` + clientID + `' ` +
		`--set-string 'podLabels.azure\.workload\.identity/use=true' ` +
		// The chart's node-agent DaemonSet (file-system backups, data mover) has its own pod labels.
		`--set-string 'nodeAgent.podLabels.azure\.workload\.identity/use=true'`
)

func spacesValues(clientID string) map[string]any {
	return map[string]any{"controlPlanes": map[string]any{"mxpController": map[string]any{
		"serviceAccount": map[string]any{"annotations": map[string]any{"azure.workload.identity/client-id": clientID}},
		"pod":            map[string]any{"customLabels": map[string]any{"azure.workload.identity/use": "true"}},
	}}}
}

func TestConfigureUpboundPrintsValuesAndChangesNothing(t *testing.T) {
	for _, dryRun := range []string{"", "--dry-run=client", "--dry-run=server"} {
		t.Run("dry-run "+dryRun, func(t *testing.T) {
			f := &fakeFactory{client: helmInstalledCluster(t, "upbound-spaces", controlPlaneNS), explicitNS: controlPlaneNS}
			args := []string{"identity", "configure", "--profile", "upbound-spaces", "-n", controlPlaneNS, "--client-id", clientID, "--no-azure", "--yes"}
			if dryRun != "" {
				args = append(args, dryRun)
			}
			out, errOut, err := run(t, f, "", args...)
			if err != nil {
				t.Fatalf("exit %d (%v)\n%s\n%s", exitcode.Code(err), err, out, errOut)
			}
			for _, want := range []string{
				"set these values in release spaces (namespace upbound-system)",
				"          azure.workload.identity/client-id: " + clientID,
				`          azure.workload.identity/use: "true"`,
				spacesHelmLine,
				"The cluster objects in namespace mxp-lab-1 were not changed",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "Plan for profile") || strings.Contains(errOut, "reverts") {
				t.Errorf("a plan or a live-patch warning without --live-patch:\n%s\n%s", out, errOut)
			}
			if n := writes(f.client); n != 0 {
				t.Errorf("%d write requests without --live-patch: %v", n, f.client.Actions())
			}
		})
	}
}

func TestConfigureHelmValuesFile(t *testing.T) {
	tests := []struct {
		profile, ns string
		extra       []string
		want        map[string]any
	}{
		{profile: "upbound-spaces", ns: controlPlaneNS, want: spacesValues(clientID)},
		{profile: "upbound-spaces", ns: controlPlaneNS, extra: []string{"--tenant-id", otherGUID}, want: func() map[string]any {
			v := spacesValues(clientID)
			v["controlPlanes"].(map[string]any)["mxpController"].(map[string]any)["serviceAccount"].(map[string]any)["annotations"].(map[string]any)["azure.workload.identity/tenant-id"] = otherGUID
			return v
		}()},
		{profile: "velero", ns: "velero", want: map[string]any{
			"serviceAccount": map[string]any{"server": map[string]any{"annotations": map[string]any{"azure.workload.identity/client-id": clientID}}},
			"podLabels":      map[string]any{"azure.workload.identity/use": "true"},
			"nodeAgent":      map[string]any{"podLabels": map[string]any{"azure.workload.identity/use": "true"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.profile+strings.Join(tc.extra, ""), func(t *testing.T) {
			f := &fakeFactory{client: helmInstalledCluster(t, tc.profile, tc.ns), explicitNS: tc.ns}
			args := append([]string{"identity", "configure", "--profile", tc.profile, "-n", tc.ns, "--client-id", clientID, "--no-azure", "-o", "helm-values"}, tc.extra...)
			out, errOut, err := run(t, f, "", args...)
			if err != nil {
				t.Fatalf("exit %d (%v)\n%s", exitcode.Code(err), err, errOut)
			}
			var got map[string]any
			if err := yaml.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("stdout is not a values file: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("values file:\n%s\nwant %v", out, tc.want)
			}
			if n := writes(f.client); n != 0 {
				t.Errorf("-o helm-values made %d write requests", n)
			}
		})
	}
}

const otherGUID = "99999999-8888-4777-8666-555555555555"

func TestConfigureUpboundLivePatch(t *testing.T) {
	f := &fakeFactory{client: helmInstalledCluster(t, "upbound-spaces", controlPlaneNS), explicitNS: controlPlaneNS}
	out, errOut, err := run(t, f, "", "identity", "configure", "--profile", "upbound-spaces", "-n", controlPlaneNS, "--client-id", clientID, "--no-azure", "--yes", "--live-patch", "--wait=false")
	if err != nil {
		t.Fatalf("exit %d (%v)\n%s\n%s", exitcode.Code(err), err, out, errOut)
	}
	if got := patches(f.client); got != 2 {
		t.Errorf("%d patches, want the annotation and the pod-template label", got)
	}
	if !strings.Contains(out, spacesHelmLine) || !strings.Contains(out, "Applied 2 change(s)") {
		t.Errorf("stdout lacks the helm line or the applied count:\n%s", out)
	}
	if !strings.Contains(errOut, "Warning: --live-patch also patches the live objects; the next `helm upgrade` of release spaces reverts them") {
		t.Errorf("stderr lacks the revert warning:\n%s", errOut)
	}
}

func TestConfigureHelmJSONAndVelero(t *testing.T) {
	f := &fakeFactory{client: helmInstalledCluster(t, "upbound-spaces", controlPlaneNS), explicitNS: controlPlaneNS}
	out, errOut, err := run(t, f, "", "identity", "configure", "--profile", "upbound-spaces", "-n", controlPlaneNS, "--client-id", clientID, "--no-azure", "--yes", "-o", "json",
		"--helm-release", "my-space", "--helm-chart", "./spaces", "--helm-namespace", "spaces-ns")
	if err != nil {
		t.Fatalf("exit %d (%v)\n%s", exitcode.Code(err), err, errOut)
	}
	var doc struct {
		Kind string
		Helm struct {
			Release, Chart, Namespace, Command string
			Values                             map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, out)
	}
	if doc.Helm.Release != "my-space" || doc.Helm.Chart != "./spaces" || doc.Helm.Namespace != "spaces-ns" || !reflect.DeepEqual(doc.Helm.Values, spacesValues(clientID)) ||
		!strings.HasPrefix(doc.Helm.Command, "helm upgrade my-space ./spaces -n spaces-ns --reuse-values --set-string "+spacesClientIDSet) {
		t.Errorf("helm section: %+v", doc.Helm)
	}
	if writes(f.client) != 0 {
		t.Errorf("-o json without --live-patch wrote to the cluster")
	}

	// Velero is patched live by default; the values and the helm line are the footnote on stderr.
	f = &fakeFactory{client: helmInstalledCluster(t, "velero", "velero")}
	out, errOut, err = run(t, f, "", "identity", "configure", "--profile", "velero", "--client-id", clientID, "--no-azure", "--yes", "--wait=false")
	if err != nil {
		t.Fatalf("velero: exit %d (%v)\n%s", exitcode.Code(err), err, errOut)
	}
	if !strings.Contains(errOut, veleroHelmLine) || strings.Contains(out, "helm upgrade") || patches(f.client) != 3 { // the service account, deployment velero, daemonset node-agent
		t.Errorf("velero: %d patches\n--- stdout\n%s\n--- stderr\n%s", patches(f.client), out, errOut)
	}
}

func TestConfigureHelmFlagValidation(t *testing.T) {
	base := []string{"identity", "configure", "--client-id", clientID, "--no-azure"}
	spaces := append(append([]string{}, base...), "--profile", "upbound-spaces", "-n", controlPlaneNS)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"values file with live patch", append(spaces, "-o", "helm-values", "--live-patch"), "-o helm-values only prints the values and changes nothing: drop --live-patch"},
		{"values file with server dry run", append(spaces, "-o", "helm-values", "--dry-run=server"), "--dry-run=server has nothing to check"},
		{"values file for a chartless profile", append(base, "-o", "helm-values"), "profile aks-backup has none"},
		{"helm names for a chartless profile", append(base, "--helm-release", "x", "--yes"), "profile aks-backup has no chart values"},
		{"live patch where patching is the default", append(base, "--profile", "velero", "--live-patch", "--yes"), "profile velero patches the live objects anyway"},
		{"wait-bsl without the live wiring", append(spaces, "--yes", "--wait-bsl"), "--wait-bsl needs the live wiring"},
		{"unknown format", append(spaces, "-o", "helm"), `unsupported output format "helm"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeFactory{client: helmInstalledCluster(t, "upbound-spaces", controlPlaneNS)}
			for i, a := range tc.args {
				if a == "-n" {
					f.explicitNS = tc.args[i+1]
				}
			}
			_, _, err := run(t, f, "", tc.args...)
			if exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("exit %d (%v), want 2 with %q", exitcode.Code(err), err, tc.wantErr)
			}
			if len(f.client.Actions()) != 0 {
				t.Errorf("bad flags reached the cluster: %v", f.client.Actions())
			}
		})
	}
}

func TestConfigureUpboundNeedsTheObjects(t *testing.T) {
	client := helmInstalledCluster(t, "upbound-spaces", controlPlaneNS)
	f := &fakeFactory{client: client, explicitNS: controlPlaneNS}
	if err := client.Tracker().Delete(appsv1.SchemeGroupVersion.WithResource("deployments"), controlPlaneNS, "mxp-controller"); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, f, "", "identity", "configure", "--profile", "upbound-spaces", "-n", controlPlaneNS, "--client-id", clientID, "--no-azure", "-o", "helm-values")
	if exitcode.Code(err) != exitcode.InvalidInput || !strings.Contains(err.Error(), "deployment mxp-controller not found in namespace mxp-lab-1") {
		t.Fatalf("exit %d (%v), want 2 naming the missing deployment", exitcode.Code(err), err)
	}
}
