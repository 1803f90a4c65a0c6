package plugin

import (
	"encoding/json"
	"strings"
	"testing"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

const (
	veleroIdentityID = "/subscriptions/" + azurefake.Subscription + "/resourceGroups/velero-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/velero-identity"
	veleroClientID   = "aaaaaaaa-0000-4000-8000-000000000001"
)

// veleroCluster is a plain Velero install in namespace velero, its service account annotated with
// clientID ("" = not annotated).
func veleroCluster(clientID string) *fake.Clientset {
	labels := map[string]string{"app": "velero"}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: "velero"}}
	if clientID != "" {
		sa.Annotations = map[string]string{identity.AnnotationClientID: clientID}
	}
	client := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "velero"}}, sa,
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: "velero", Generation: 1},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{ServiceAccountName: "velero", Containers: []corev1.Container{{Name: "velero"}}}}},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}},
		podController(profile.Workload{Kind: profile.KindDaemonSet, Name: "node-agent"}, metav1.ObjectMeta{Namespace: "velero"},
			corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"name": "node-agent"}},
				Spec: corev1.PodSpec{ServiceAccountName: "velero", Containers: []corev1.Container{{Name: "node-agent"}}}}))
	client.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		review := action.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview)
		review.Status.Allowed = true
		return true, review, nil
	})
	return client
}

// veleroAzure is the AKS Backup world plus Velero's own identity; the extension's identity must not be used.
func veleroAzure() *azurefake.Client {
	az := azurefake.AKSBackup()
	az.Extensions = nil
	az.Identities = append(az.Identities, azure.Identity{ID: veleroIdentityID, Name: "velero-identity", ResourceGroup: "velero-rg", ClientID: veleroClientID, PrincipalID: "aaaaaaaa-0000-4000-8000-0000000000aa"})
	return az
}

func veleroBSL() *velerov1.BackupStorageLocation {
	b := location("default", "Unavailable", "", metav1.Now().Time)
	b.Namespace = "velero"
	b.Spec.Config = map[string]string{"storageAccount": "labstorage", "resourceGroup": "lab-rg", "subscriptionId": azurefake.Subscription, "useAAD": "true"}
	return b
}

func TestVeleroProfileUsesItsOwnIdentity(t *testing.T) {
	type doc struct {
		Findings []struct{ ID, Message string }
		Plan     struct {
			Changes []struct{ Phase, Object, Reason string }
		}
	}
	tests := []struct {
		name     string
		clientID string
		args     []string
		code     int
		want     []string // finding IDs (status) or plan objects/reasons (configure)
		notWant  []string
	}{
		{name: "status without annotation or flag names identity-unknown", args: []string{"identity", "status", "--profile", "velero", "-o", "json"},
			code: exitcode.Findings, want: []string{"identity-unknown"}, notWant: []string{"extension-missing", "federated-credential-missing"}},
		{name: "status finds the identity by the annotation", clientID: veleroClientID, args: []string{"identity", "status", "--profile", "velero", "-o", "json"},
			code: exitcode.Findings, want: []string{"federated-credential-missing", "blob-data-role-missing"}, notWant: []string{"extension-missing", "identity-unknown", "storage-account-contributor-missing"}},
		{name: "configure by --identity grants at the container", args: []string{"identity", "configure", "--profile", "velero", "--identity", "velero-identity", "--identity-resource-group", "velero-rg", "--dry-run=client", "-o", "json"},
			want: []string{"federatedIdentityCredential/aksbackup-velero", "scope " + azurefake.AccountID + "/blobServices/default/containers/velero"}},
		{name: "configure --role-scope account grants at the account", clientID: veleroClientID, args: []string{"identity", "configure", "--profile", "velero", "--role-scope", "account", "--dry-run=client", "-o", "json"},
			want: []string{"scope " + azurefake.AccountID}, notWant: []string{"containers/velero"}},
		{name: "configure without an identity refuses", args: []string{"identity", "configure", "--profile", "velero", "--yes"}, code: exitcode.InvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			az := veleroAzure()
			withAzure(t, az)
			f := &fakeFactory{client: veleroCluster(tc.clientID), dyn: dynamicWith(t, veleroBSL()), rg: "lab-rg", cluster: "lab-aks"}
			out, errOut, err := run(t, f, "", tc.args...)
			if exitcode.Code(err) != tc.code {
				t.Fatalf("exit %d (%v)\n%s\n%s", exitcode.Code(err), err, out, errOut)
			}
			if az.Calls["ListExtensions"] != 0 {
				t.Errorf("the velero profile asked for the extension")
			}
			if tc.code == exitcode.InvalidInput {
				if !strings.Contains(err.Error(), "identity-unknown") || az.Calls["CreateFederatedCredential"]+az.Calls["CreateRoleAssignment"] != 0 {
					t.Errorf("want a refusal naming identity-unknown and no writes: %v %v", err, az.Calls)
				}
				return
			}
			var d doc
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var seen []string
			for _, fd := range d.Findings {
				seen = append(seen, fd.ID)
			}
			for _, c := range d.Plan.Changes {
				seen = append(seen, c.Object, c.Reason)
			}
			all := strings.Join(seen, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("missing %q in\n%s", w, all)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(all, w) {
					t.Errorf("unexpected %q in\n%s", w, all)
				}
			}
		})
	}
}

func TestIdentityFlagsAreValidated(t *testing.T) {
	for _, args := range [][]string{
		{"identity", "status", "--profile", "velero", "--identity", "x"},
		{"identity", "status", "--identity", "x", "--identity-resource-group", "rg"},
		{"identity", "configure", "--profile", "velero", "--role-scope", "subscription", "--dry-run=client"},
		{"identity", "configure", "--profile", "velero", "--identity-subscription", "not-a-guid", "--dry-run=client"},
	} {
		withAzure(t, veleroAzure())
		f := &fakeFactory{client: veleroCluster(""), dyn: dynamicWith(t, veleroBSL()), rg: "lab-rg", cluster: "lab-aks"}
		if _, _, err := run(t, f, "", args...); exitcode.Code(err) != exitcode.InvalidInput {
			t.Errorf("%v: exit %d (%v), want %d", args, exitcode.Code(err), err, exitcode.InvalidInput)
		}
	}
}
