package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/velerolab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

const (
	bslUnavailable = `BackupStorageLocation "default" is unavailable: rpc error: code = Unknown desc = `
	bslWait        = time.Minute
)

// veleroLogLine matches one of Velero's logrus text lines: time, level, msg, then sorted fields.
var veleroLogLine = regexp.MustCompile(`^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=(info|warning|error) msg="(?:[^"\\]|\\.)*"( [A-Za-z.-]+(=[^ "]+|="(?:[^"\\]|\\.)*"))*$`)

// TestVeleroValidatesBSLs follows one fixture namespace through the chain a real AKS Backup
// extension goes through: pod env -> token exchange -> blob listing -> BSL phase and message ->
// Velero's log lines through `kubectl logs`. The Azure scenario is global to the lab, so this
// test, like the other Azure tests, does not run in parallel.
func TestVeleroValidatesBSLs(t *testing.T) {
	lab := labtest.Load(t)
	if lab.BlobURL == "" {
		t.Fatal("the lab runs without Azurite (npm install failed?); rerun e2e/scripts/build-tools.sh")
	}
	ns := lab.NewFixtureNamespace(t, "velero")
	client := lab.Clientset(t)
	ctx := context.Background()
	agent, agentSA := deployments[1], serviceAccounts[1]
	lab.AzureScenario(t, "unwired", ns)

	logsHave := func(t *testing.T, wants ...string) string {
		t.Helper()
		logs := lab.VeleroLogs(t, ns)
		for _, want := range wants {
			if !strings.Contains(logs, want) {
				t.Errorf("kubectl logs of the velero container lacks %q:\n%s", want, tail(logs, 12))
			}
		}
		return logs
	}

	t.Run("unwired, without credentials: managed identity has no client ID", func(t *testing.T) {
		msg := lab.WaitBSLPhase(t, ns, "default", "Unavailable", bslWait)
		if want := bslUnavailable + "empty managedidentity.UserAssignedClientID"; msg != want {
			t.Errorf("message %q, want %q", msg, want)
		}
		logs := logsHave(t, `level=error msg="Error getting a backup store" backup-storage-location=`+ns+`/default controller=backup-storage-location error="rpc error: code = Unknown desc = empty managedidentity.UserAssignedClientID" logSource="pkg/controller/backup_storage_location_controller.go:248"`,
			`level=info msg="auth with Azure AD" backup-storage-location=`+ns+`/default cmd=/plugins/velero-plugin-for-microsoft-azure controller=backup-storage-location`,
			`level=info msg="BackupStorageLocation is invalid, marking as unavailable"`)
		for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
			if !veleroLogLine.MatchString(line) {
				t.Errorf("not a Velero log line: %q", line)
			}
		}
	})

	t.Run("unwired, with the extension identity's credentials: IMDS does not know the identity", func(t *testing.T) {
		creds := fmt.Sprintf("AZURE_SUBSCRIPTION_ID=%s\nAZURE_RESOURCE_GROUP=MC_lab-rg_lab-aks_eastus\nAZURE_CLOUD_NAME=AzurePublicCloud\nAZURE_TENANT_ID=%s\nAZURE_CLIENT_ID=%s\n",
			lab.Subscription, lab.TenantID, clientID)
		if _, err := client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "velero-credentials"},
			StringData: map[string]string{"cloud": creds}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		patchBSL(t, lab, ns, `{"spec":{"credential":{"name":"velero-credentials","key":"cloud"}}}`)
		msg := lab.WaitBSL(t, ns, "default", bslWait, func(st labtest.BSLStatus) bool {
			return st.Phase == "Unavailable" && strings.Contains(st.Message, "ManagedIdentityCredential")
		}).Message
		for _, want := range []string{bslUnavailable + "ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource\nGET http://169.254.169.254/metadata/identity/oauth2/token\n",
			"RESPONSE 400: 400 Bad Request", `"error_description": "Identity not found"`} {
			if !strings.Contains(msg, want) {
				t.Errorf("message lacks %q:\n%s", want, msg)
			}
		}
		logsHave(t, `level=info msg="Validating BackupStorageLocation"`,
			`level=error msg="fail to validate backup store" backup-storage-location=`+ns+`/default controller=backup-storage-location error="rpc error: code = Unknown desc = ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource\nGET http://169.254.169.254/metadata/identity/oauth2/token\n`,
			`\"error_description\": \"Identity not found\"`,
			`error.file="/go/src/github.com/vmware-tanzu/velero/pkg/persistence/object_store.go:222" error.function="github.com/vmware-tanzu/velero/pkg/persistence.(*objectBackupStore).IsValid" logSource="pkg/controller/backup_storage_location_controller.go:255"`,
			`level=error msg="Current BackupStorageLocations available/unavailable/unknown: 0/1/0, BackupStorageLocation \"default\" is unavailable: rpc error: code = Unknown desc = ManagedIdentityCredential authentication failed.`)
	})

	oldPod := lab.VeleroPod(t, ns)
	t.Run("wired: the new pod's token is exchanged and the BSL becomes Available, with fresh logs", func(t *testing.T) {
		lab.AzureScenario(t, "wired", ns)
		if _, err := client.CoreV1().ServiceAccounts(ns).Patch(ctx, agentSA, types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"azure.workload.identity/client-id":"`+clientID+`"}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.AppsV1().Deployments(ns).Patch(ctx, agent, types.MergePatchType,
			[]byte(`{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		lab.WaitRollout(t, ns, agent)
		st := lab.WaitBSL(t, ns, "default", bslWait, func(st labtest.BSLStatus) bool { return st.Phase == "Available" })
		if st.Message != "" || st.LastSyncedTime.IsZero() {
			t.Errorf("available BSL status %+v: want no message and a lastSyncedTime", st)
		}
		if pod := lab.VeleroPod(t, ns); pod == oldPod {
			t.Fatalf("the velero pod %s was not replaced", pod)
		}
		logs := logsHave(t, `level=info msg="Validating BackupStorageLocation"`, `level=info msg="BackupStorageLocations is valid, marking as available"`)
		if strings.Contains(logs, "Identity not found") || strings.Contains(logs, "UserAssignedClientID") {
			t.Errorf("the new pod's log holds the old pod's errors:\n%s", tail(logs, 12))
		}
	})

	faults := []struct {
		fault, message, log string
	}{
		{"issuer-no-trailing-slash", "AADSTS700211: No matching federated identity record found for presented assertion issuer '" + lab.IssuerURL + "'",
			`error="rpc error: code = Unknown desc = WorkloadIdentityCredential authentication failed. \nPOST https://login.microsoftonline.com/` + lab.TenantID + `/oauth2/v2.0/token\n`},
		{"subject-wrong-namespace", "AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:" + ns + ":" + agentSA + "'",
			`AADSTS700213`},
		{"role-account-contributor-only", bslUnavailable + "AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission.",
			// The BSL's storageAccountURI: the blob front on the lab bridge when the lab has a real node.
			`GET ` + lab.StorageAccountURI() + `/velero\n--------------------------------------------------------------------------------\nRESPONSE 403: 403 This request is not authorized to perform this operation using this permission.\nERROR CODE: AuthorizationPermissionMismatch`},
		{"container-missing", bslUnavailable + "ContainerNotFound: The specified container does not exist.",
			`RESPONSE 404: 404 The specified container does not exist.\nERROR CODE: ContainerNotFound`},
		{"network-deny", bslUnavailable + "AuthorizationFailure: This request is not authorized to perform this operation.",
			`RESPONSE 403: 403 This request is not authorized to perform this operation.\nERROR CODE: AuthorizationFailure`},
	}
	for _, f := range faults {
		t.Run("fault "+f.fault, func(t *testing.T) {
			lab.AzureScenario(t, "wired", ns, f.fault)
			msg := lab.WaitBSLPhase(t, ns, "default", "Unavailable", bslWait)
			if !strings.Contains(msg, f.message) {
				t.Errorf("message lacks %q:\n%s", f.message, msg)
			}
			logsHave(t, `level=error msg="fail to validate backup store"`, f.log,
				`level=error msg="Current BackupStorageLocations available/unavailable/unknown: `)
		})
	}

	t.Run("without storageAccountURI the plugin asks ARM for the blob endpoint", func(t *testing.T) {
		lab.AzureScenario(t, "wired", ns)
		patchBSL(t, lab, ns, `{"spec":{"config":{"storageAccountURI":null}}}`)
		lab.WaitBSLPhase(t, ns, "default", "Available", bslWait)
		logsHave(t, `msg="use the storage account URI retrieved from the storage account properties \"https://labstorage.blob.core.windows.net/\""`)
		lab.AzureScenario(t, "wired", ns, "container-missing")
		lab.WaitBSLPhase(t, ns, "default", "Unavailable", bslWait)
		logsHave(t, `error="rpc error: code = Unknown desc = GET https://labstorage.blob.core.windows.net/velero\n`)
	})

	t.Run("a service account without the client-id annotation: no client ID specified", func(t *testing.T) {
		lab.AzureScenario(t, "wired", ns)
		if _, err := client.CoreV1().ServiceAccounts(ns).Patch(ctx, agentSA, types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"azure.workload.identity/client-id":null}}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		restart(t, lab, ns, agent)
		msg := lab.WaitBSLPhase(t, ns, "default", "Unavailable", bslWait)
		if want := bslUnavailable + "no client ID specified. Check pod configuration or set ClientID in the options"; msg != want {
			t.Errorf("message %q, want %q", msg, want)
		}
		logsHave(t, `level=error msg="Error getting a backup store" backup-storage-location=`+ns+`/default controller=backup-storage-location error="rpc error: code = Unknown desc = no client ID specified. Check pod configuration or set ClientID in the options" logSource="pkg/controller/backup_storage_location_controller.go:248"`)
	})
}

func patchBSL(t *testing.T, lab *labtest.Lab, ns, patch string) {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", lab.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(velerolab.BSLResource).Namespace(ns).Patch(context.Background(), "default", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// restart is `kubectl rollout restart`: a new pod template annotation, then the rollout.
func restart(t *testing.T, lab *labtest.Lab, ns, deployment string) {
	t.Helper()
	patch := `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"` + time.Now().Format(time.RFC3339Nano) + `"}}}}}`
	if _, err := lab.Clientset(t).AppsV1().Deployments(ns).Patch(context.Background(), deployment, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	lab.WaitRollout(t, ns, deployment)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
