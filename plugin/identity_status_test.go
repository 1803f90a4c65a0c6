package plugin

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/velerocreds"
)

// Velero takes the storage account's resource group from the BSL config, else from
// AZURE_RESOURCE_GROUP of its credentials secret; identity status must look the account up the same way.
func TestStatusTakesTheResourceGroupFromVelerosCredentials(t *testing.T) {
	const clientSecret = "Cl13nt-S3cret~must.never.show"
	tests := []struct {
		name        string
		credentials string // "" = no secret
		// lookups is how many times the storage account is read from ARM.
		lookups       int
		want, notWant []string
	}{
		{name: "from the credentials secret", lookups: 1,
			credentials: "AZURE_SUBSCRIPTION_ID=" + azurefake.Subscription + "\nAZURE_RESOURCE_GROUP=lab-rg\nAZURE_CLOUD_NAME=AzurePublicCloud\nAZURE_CLIENT_SECRET=" + clientSecret + "\n",
			want:        []string{"blob-data-role-missing"}, notWant: []string{"bsl-azure-config-missing"}},
		{name: "the secret names no resource group", lookups: 0,
			credentials: "AZURE_SUBSCRIPTION_ID=" + azurefake.Subscription + "\nAZURE_CLOUD_NAME=AzurePublicCloud\n",
			want:        []string{"bsl-azure-config-missing", "velero-credentials-incomplete"}, notWant: []string{"blob-data-role-missing"}},
		{name: "no secret", lookups: 0, want: []string{"bsl-azure-config-missing", "velero-credentials-missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			az := veleroAzure()
			withAzure(t, az)
			client := veleroCluster(veleroClientID)
			if tc.credentials != "" {
				secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: velerocreds.Secret, Namespace: "velero"}, Data: map[string][]byte{velerocreds.Key: []byte(tc.credentials)}}
				if _, err := client.CoreV1().Secrets("velero").Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			b := veleroBSL()
			delete(b.Spec.Config, "resourceGroup")
			f := &fakeFactory{client: client, dyn: dynamicWith(t, b), rg: "lab-rg", cluster: "lab-aks"}
			out, errOut, err := run(t, f, "", "identity", "status", "--profile", "velero", "-o", "json")
			if exitcode.Code(err) != exitcode.Findings {
				t.Fatalf("exit %d (%v)\n%s\n%s", exitcode.Code(err), err, out, errOut)
			}
			var doc struct{ Findings []struct{ ID string } }
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var ids []string
			for _, fd := range doc.Findings {
				ids = append(ids, fd.ID)
			}
			for _, w := range tc.want {
				if !slices.Contains(ids, w) {
					t.Errorf("findings %v lack %s", ids, w)
				}
			}
			for _, w := range tc.notWant {
				if slices.Contains(ids, w) {
					t.Errorf("findings %v hold %s", ids, w)
				}
			}
			if got := az.Calls["GetStorageAccount"]; got != tc.lookups {
				t.Errorf("the storage account was read %d times, want %d", got, tc.lookups)
			}
			if strings.Contains(out+errOut, clientSecret) {
				t.Error("a value of the credentials secret was printed")
			}
		})
	}
}

// configure plans the role on the same storage account status judges: with no resourceGroup in the
// BSL, the credentials secret's AZURE_RESOURCE_GROUP names it.
func TestConfigureTakesTheResourceGroupFromVelerosCredentials(t *testing.T) {
	for _, tc := range []struct {
		name        string
		credentials string
		lookups     int
	}{
		{"from the credentials secret", "AZURE_SUBSCRIPTION_ID=" + azurefake.Subscription + "\nAZURE_RESOURCE_GROUP=lab-rg\n", 1},
		{"the secret names none", "AZURE_SUBSCRIPTION_ID=" + azurefake.Subscription + "\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			az := veleroAzure()
			withAzure(t, az)
			client := veleroCluster(veleroClientID)
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: velerocreds.Secret, Namespace: "velero"}, Data: map[string][]byte{velerocreds.Key: []byte(tc.credentials)}}
			if _, err := client.CoreV1().Secrets("velero").Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			b := veleroBSL()
			delete(b.Spec.Config, "resourceGroup")
			f := &fakeFactory{client: client, dyn: dynamicWith(t, b), rg: "lab-rg", cluster: "lab-aks"}
			out, errOut, err := run(t, f, "", "identity", "configure", "--profile", "velero", "--dry-run=client")
			if got := az.Calls["GetStorageAccount"]; got != tc.lookups {
				t.Errorf("the storage account was read %d times, want %d (exit %d)\n%s\n%s", got, tc.lookups, exitcode.Code(err), out, errOut)
			}
		})
	}
}
