package e2e

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/azurelab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/velerolab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

// planRows counts the plan table's rows of a phase and action (the columns are as wide as their cells).
func planRows(table, phase, action string) int {
	n := 0
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == phase && f[1] == action {
			n++
		}
	}
	return n
}

func bslClient(t *testing.T, lab *labtest.Lab) dynamic.NamespaceableResourceInterface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", lab.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dyn.Resource(velerolab.BSLResource)
}

// veleroARM is the part of the ARM double's state that Velero's wiring changes.
type veleroARM struct {
	VeleroCredentials []azurelab.Credential `json:"veleroCredentials"`
	Assignments       []azurelab.Assignment `json:"assignments"`
}

func readVeleroARM(t *testing.T, lab *labtest.Lab) veleroARM {
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
	var s veleroARM
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s veleroARM) assignmentsOf(principal string) []azurelab.Assignment {
	var out []azurelab.Assignment
	for _, a := range s.Assignments {
		if strings.EqualFold(a.PrincipalID, principal) {
			out = append(out, a)
		}
	}
	return out
}

// TestVeleroAzure is the velero profile's story with Velero's own user-assigned identity: status
// fails naming what is missing, configure finds the identity (by --identity, later by the service
// account's annotation), creates the federated credential and a container-scope role, the BSL turns
// Available, a rerun changes nothing; then the BSL moves to another subscription's account, and the
// same commands grant there. On a custom-cloud lab no output names a public Azure host.
func TestVeleroAzure(t *testing.T) {
	lab := labtest.Load(t)
	ns := lab.NewVeleroNamespace(t)
	lab.AzureScenario(t, "unwired", ns)
	env := lab.AzureEnv(t)
	var outputs []string
	run := func(args ...string) result {
		r := kubectlEnv(t, lab, env, append([]string{"aksbackup"}, args...)...)
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}
	sel := []string{"--profile", "velero", "-n", ns}
	byName := []string{"--identity", azurelab.VeleroIdentityName, "--identity-resource-group", azurelab.VeleroResourceGroup}
	containerScope := azurelab.AccountID + "/blobServices/default/containers/" + azurelab.Container
	statusDoc := func(r result) statusDoc {
		var doc statusDoc
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("status -o json: %v\n%s", err, r)
		}
		return doc
	}

	t.Run("status names the unknown identity, never the extension", func(t *testing.T) {
		r := run(append(append([]string{"identity", "status"}, sel...), "-o", "json")...)
		doc := statusDoc(r)
		if r.code != 1 || countFindings(doc, "identity-unknown") != 1 || countFindings(doc, "extension-missing") != 0 {
			t.Fatalf("want identity-unknown, no extension-missing:\n%s", r)
		}
		// Before any wiring Velero cannot reach the storage (WaitBSLPhase fails the test otherwise).
		lab.WaitBSLPhase(t, ns, "default", "Unavailable", time.Minute)
	})

	t.Run("status with --identity names the missing credential, role and wiring", func(t *testing.T) {
		r := run(append(append(append([]string{"identity", "status"}, sel...), byName...), "-o", "json")...)
		doc := statusDoc(r)
		if r.code != 1 || countFindings(doc, "federated-credential-missing") != 1 || countFindings(doc, "blob-data-role-missing") != 1 ||
			countFindings(doc, "wi-client-id-missing")+countFindings(doc, "wi-label-missing") == 0 || countFindings(doc, "extension-missing") != 0 {
			t.Fatalf("findings %+v\n%s", doc.Findings, r)
		}
	})

	t.Run("configure --identity creates the credential and a container-scope role, then wires the cluster", func(t *testing.T) {
		r := run(append(append(append([]string{"identity", "configure"}, sel...), byName...), "--yes", "--timeout", "3m")...)
		if r.code != 0 || planRows(r.stdout, "federated-credential", "create") != 1 || planRows(r.stdout, "role-assignment", "create") != 1 {
			t.Fatalf("configure:\n%s", r)
		}
		s := readVeleroARM(t, lab)
		if len(s.VeleroCredentials) != 1 || s.VeleroCredentials[0].Subject != "system:serviceaccount:"+ns+":velero" {
			t.Errorf("Velero's federated credentials: %+v", s.VeleroCredentials)
		}
		if as := s.assignmentsOf(azurelab.VeleroPrincipal); len(as) != 1 || !strings.EqualFold(as[0].Scope, containerScope) {
			t.Errorf("Velero's role assignments %+v, want one at %s", as, containerScope)
		}
		sa, err := lab.Clientset(t).CoreV1().ServiceAccounts(ns).Get(context.Background(), "velero", metav1.GetOptions{})
		if err != nil || sa.Annotations["azure.workload.identity/client-id"] != azurelab.VeleroClientID {
			t.Errorf("serviceaccount velero: %v %v", err, sa.GetAnnotations())
		}
	})

	t.Run("the BSL turns Available with the container-scope role", func(t *testing.T) {
		r := run(append(append([]string{"bsl"}, sel...), "--wait-available", "--timeout", "3m")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Available") {
			t.Fatalf("bsl --wait-available:\n%s", r)
		}
	})

	t.Run("a rerun finds the identity by the annotation and changes nothing; status is healthy", func(t *testing.T) {
		r := run(append(append([]string{"identity", "configure"}, sel...), "--yes")...)
		if r.code != 0 || !strings.Contains(r.stdout, "No changes") {
			t.Fatalf("rerun:\n%s", r)
		}
		if r := run(append([]string{"identity", "status"}, sel...)...); r.code != 0 {
			t.Fatalf("status:\n%s", r)
		}
	})

	t.Run("a BSL in another subscription: status names the missing role there, configure grants it, the BSL turns Available", func(t *testing.T) {
		patch := `{"spec":{"config":{"storageAccount":"` + azurelab.XSubAccountName + `","resourceGroup":"` + azurelab.XSubResourceGroup +
			`","subscriptionId":"` + azurelab.Subscription2 + `","storageAccountURI":null}}}`
		if _, err := bslClient(t, lab).Namespace(ns).Patch(context.Background(), "default", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		xsubScope := azurelab.XSubAccountID + "/blobServices/default/containers/" + azurelab.Container
		r := run(append(append([]string{"identity", "status"}, sel...), "-o", "json")...)
		doc := statusDoc(r)
		if r.code != 1 || countFindings(doc, "blob-data-role-missing") != 1 || countFindings(doc, "federated-credential-missing") != 0 {
			t.Fatalf("findings %+v\n%s", doc.Findings, r)
		}
		r = run(append(append([]string{"identity", "configure"}, sel...), "--yes", "--timeout", "3m")...)
		if r.code != 0 || planRows(r.stdout, "role-assignment", "create") != 1 || !strings.Contains(r.stdout, azurelab.Subscription2) {
			t.Fatalf("configure:\n%s", r)
		}
		var found bool
		for _, a := range readVeleroARM(t, lab).assignmentsOf(azurelab.VeleroPrincipal) {
			found = found || (strings.EqualFold(a.Scope, xsubScope) && strings.HasPrefix(a.RoleID, "/subscriptions/"+azurelab.Subscription2+"/"))
		}
		if !found {
			t.Fatalf("no role at %s with a role definition of subscription %s", xsubScope, azurelab.Subscription2)
		}
		if r := run(append(append([]string{"bsl"}, sel...), "--wait-available", "--timeout", "3m")...); r.code != 0 {
			t.Fatalf("bsl --wait-available:\n%s", r)
		}
	})

	if lab.Cloud == "custom" {
		t.Run("no output names a public Azure host", func(t *testing.T) {
			for _, out := range outputs {
				for _, public := range []string{"core.windows.net", "management.azure.com", "login.microsoftonline.com"} {
					if strings.Contains(out, public) {
						t.Fatalf("%s in output on a custom cloud:\n%s", public, out)
					}
				}
			}
		})
	}
}
