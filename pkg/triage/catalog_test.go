package triage

import (
	"strings"
	"testing"
)

// Lines in the formats Velero v1.18, velero-plugin-for-microsoft-azure, azidentity v1.x, Entra ID
// and kubectl print them. Each catalog entry has at least one; TestCatalogEveryEntryTested fails
// when an entry is added without a case.
const (
	lt    = `time="2026-11-21T02:00:00Z" `
	ctrl  = ` backup-storage-location=dataprotection-microsoft/default controller=backup-storage-location logSource="pkg/controller/backup_storage_location_controller.go:255"`
	grpc  = `rpc error: code = Unknown desc = `
	dash  = `\n--------------------------------------------------------------------------------\n`
	entra = `WorkloadIdentityCredential authentication failed. \nPOST https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token` + dash + `RESPONSE 400: 400 Bad Request` + dash + `{\n  \"error\": \"invalid_request\",\n  \"error_description\": \"`
	blob  = `GET https://backupsa01.blob.core.windows.net/velero` + dash
)

func storeFailure(desc string) string {
	return lt + `level=error msg="fail to validate backup store"` + ctrl + ` error="` + grpc + desc + `"`
}

var catalogCases = []struct {
	id     string
	name   string
	lines  []string
	values map[string]string // remediation must contain these values
}{
	{id: "wi-not-injected", name: "imds identity not found", lines: []string{storeFailure(`ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource\nGET http://169.254.169.254/metadata/identity/oauth2/token` + dash + `RESPONSE 400: 400 Bad Request` + dash + `{\n  \"error\": \"invalid_request\",\n  \"error_description\": \"Identity not found\"\n}` + dash + `To troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#managed-id`)},
		values: map[string]string{"namespace": "dataprotection-microsoft"}},
	{id: "wi-not-injected", name: "default credential chain", lines: []string{
		`E1121 02:00:00.000000       1 main.go:88] DefaultAzureCredential: failed to acquire a token.`,
		`Attempted credentials:`,
		"\tEnvironmentCredential: missing environment variable AZURE_TENANT_ID",
		"\tWorkloadIdentityCredential: no token file specified. Check pod configuration or set TokenFilePath in the options",
	}},
	{id: "wi-not-injected", name: "no client ID for managed identity (MSAL)", lines: []string{lt + `level=error msg="Error getting a backup store"` + ctrl + ` error="` + grpc + `empty managedidentity.UserAssignedClientID"`}},
	{id: "wi-client-id-missing", lines: []string{lt + `level=error msg="Error getting a backup store"` + ctrl + ` error="` + grpc + `no client ID specified. Check pod configuration or set ClientID in the options"`}},
	{id: "token-file-unreadable", lines: []string{storeFailure(`WorkloadIdentityCredential: open /var/run/secrets/azure/tokens/azure-identity-token: no such file or directory`)}},
	{id: "credentials-file-unreadable", lines: []string{lt + `level=error msg="Error getting a backup store"` + ctrl + ` error="` + grpc + `failed to read credentials from file /credentials/cloud: open /credentials/cloud: no such file or directory"`}},
	{id: "pod-identity-intercept", lines: []string{storeFailure(`ManagedIdentityCredential authentication failed. \nGET http://169.254.169.254/metadata/identity/oauth2/token` + dash + `RESPONSE 403: 403 Forbidden` + dash + `failed to get service principal token for pod:dataprotection-microsoft/agent-7d9f, no AzureAssignedIdentity found for pod:dataprotection-microsoft/agent-7d9f in assigned state` + dash)}},
	{id: "managed-identity-ambiguous", lines: []string{storeFailure(`ManagedIdentityCredential: failed to authenticate a system assigned identity. The endpoint responded with {\"error\":\"invalid_request\",\"error_description\":\"Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request\"}`)}},
	{id: "oidc-issuer-disabled", lines: []string{storeFailure(entra + `AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://kubernetes.default.svc.cluster.local'. Assertion Subject: 'system:serviceaccount:dataprotection-microsoft:dataprotection-microsoft-kubernetes-agent-server'. Assertion Audience: 'api://AzureADTokenExchange'. Trace ID: 0e6c Correlation ID: 5a1b Timestamp: 2026-11-21 02:00:00Z\",\n  \"error_codes\": [70021]\n}` + dash)}},
	{id: "federated-credential-mismatch", name: "issuer", lines: []string{storeFailure(entra + `AADSTS700211: No matching federated identity record found for presented assertion issuer 'https://eastus.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/4a8e1f9c-0000-4000-8000-000000000001/'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.\",\n  \"error_codes\": [700211]\n}` + dash)},
		values: map[string]string{"namespace": "dataprotection-microsoft"}},
	{id: "federated-credential-mismatch", name: "subject", lines: []string{storeFailure(entra + `AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:velero:velero'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.\",\n  \"error_codes\": [700213]\n}` + dash)}},
	{id: "federated-credential-mismatch", name: "audience, sanitized in a describe", lines: []string{
		`  Message:               BackupStorageLocation "default" is unavailable: rpc error: code = Unknown desc = WorkloadIdentityCredential authentication failed. `,
		`POST https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token`,
		`--------------------------------------------------------------------------------`,
		`RESPONSE 400: 400 Bad Request`,
		`--------------------------------------------------------------------------------`,
		`{`,
		`  "error": "invalid_request",`,
		`  "error_description": "AADSTS700212: No matching federated identity record found for presented assertion audience 'api://AzureADTokenExchangeX'.",`,
		`}`,
		`--------------------------------------------------------------------------------`,
		`  Phase:                 Unavailable`,
	}},
	{id: "client-assertion-expired", lines: []string{storeFailure(entra + `AADSTS700024: Client assertion is not within its valid time range. Current time: 2026-11-21T02:00:00.0000000Z, assertion valid from 2026-11-20T01:00:00.0000000Z, expiry time of assertion 2026-11-20T02:00:00.0000000Z.\"\n}`)}},
	{id: "tenant-not-found", lines: []string{storeFailure(entra + `AADSTS90002: Tenant '11111111-2222-3333-4444-555555555555' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.\"\n}`)}},
	{id: "oidc-issuer-unreachable", lines: []string{storeFailure(entra + `AADSTS50166: Request to External OIDC endpoint failed. Trace ID: 1\"\n}`)}},
	{id: "application-not-found", lines: []string{storeFailure(entra + `AADSTS700016: Application with identifier 'c0ffee00-aaaa-4bbb-8ccc-000000000001' was not found in the directory 'Contoso'.\"\n}`)},
		values: map[string]string{"namespace": "dataprotection-microsoft"}},
	{id: "client-secret-invalid", lines: []string{storeFailure(`ClientSecretCredential authentication failed. \nPOST https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token` + dash + `RESPONSE 401: 401 Unauthorized` + dash + `{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID\"}`)}},
	{id: "bsl-config-incomplete", name: "storage account", lines: []string{lt + `level=error msg="Error getting a backup store"` + ctrl + ` error="` + grpc + `storageAccount is required in BSL"`}},
	{id: "bsl-config-incomplete", name: "invalid keys", lines: []string{lt + `level=error msg="Error getting a backup store"` + ctrl + ` error="` + grpc + `config has invalid keys [storageaccount]; valid keys are [resourceGroup storageAccount subscriptionId blockSizeInBytes activeDirectoryAuthorityURI storageAccountURI useAAD storageAccountKeyEnvVar credentialsFile]"`}},
	{id: "subscription-invalid", lines: []string{lt + `level=error msg="Error getting a backup store"` + ctrl + ` error="` + grpc + `failed to list storage account access keys: POST https://management.azure.com/subscriptions/00000000-0000-0000-0000-00000000beef/resourceGroups/backup-rg/providers/Microsoft.Storage/storageAccounts/backupsa01/listKeys` + dash + `RESPONSE 404: 404 Not Found\nERROR CODE: SubscriptionNotFound` + dash + `{\"error\":{\"code\":\"SubscriptionNotFound\",\"message\":\"The subscription '00000000-0000-0000-0000-00000000beef' could not be found.\"}}"`},
		values: map[string]string{"namespace": "dataprotection-microsoft"}},
	{id: "storage-key-misconfigured", name: "env var", lines: []string{lt + `level=error msg="Error getting a backup store"` + ctrl + ` error="` + grpc + `no storage account access key with key AZURE_STORAGE_ACCOUNT_ACCESS_KEY found in credential"`}},
	{id: "storage-key-misconfigured", name: "wrong key", lines: []string{storeFailure(blob + `RESPONSE 403: 403 Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.\nERROR CODE: AuthenticationFailed` + dash)}},
	{id: "storage-account-read-denied", lines: []string{lt + `level=info msg="failed to retrieve the storage account properties: GET https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/backup-rg/providers/Microsoft.Storage/storageAccounts/backupsa01` + dash + `RESPONSE 403: 403 Forbidden\nERROR CODE: AuthorizationFailed` + dash + `, fallback to use the default URI \"https://backupsa01.blob.core.windows.net\"" cmd=/plugins/velero-plugin-for-microsoft-azure logSource="/go/src/velero-plugin-for-microsoft-azure/object_store.go:212" pluginName=velero-plugin-for-microsoft-azure`},
		values: map[string]string{"clientID": "<clientID>"}},
	{id: "storage-uri-invalid", lines: []string{storeFailure(`Get \"https://backupsa0l.blob.core.windows.net/velero?comp=list&delimiter=%2F&restype=container\": dial tcp: lookup backupsa0l.blob.core.windows.net on 10.0.0.10:53: no such host`)},
		values: map[string]string{"account": "backupsa0l"}},
	{id: "storage-network-blocked", name: "full", lines: []string{storeFailure(blob + `RESPONSE 403: 403 This request is not authorized to perform this operation.\nERROR CODE: AuthorizationFailure` + dash + `<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthorizationFailure</Code><Message>This request is not authorized to perform this operation.\nRequestId:1c2f\nTime:2026-11-21T02:00:00.0000000Z</Message></Error>` + dash)},
		values: map[string]string{"account": "backupsa01"}},
	{id: "storage-network-blocked", name: "sanitized status", lines: []string{`BackupStorageLocation "default" is unavailable: AuthorizationFailure: This request is not authorized to perform this operation.`}},
	{id: "shared-key-disabled", lines: []string{storeFailure(blob + `RESPONSE 403: 403 Key based authentication is not permitted on this storage account.\nERROR CODE: KeyBasedAuthenticationNotPermitted` + dash)}},
	{id: "blob-data-role-missing", name: "full", lines: []string{storeFailure(blob + `RESPONSE 403: 403 This request is not authorized to perform this operation using this permission.\nERROR CODE: AuthorizationPermissionMismatch` + dash + `<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.\nRequestId:1c2f\nTime:2026-11-21T02:00:00.0000000Z</Message></Error>` + dash)},
		values: map[string]string{"account": "backupsa01", "namespace": "dataprotection-microsoft"}},
	{id: "blob-data-role-missing", name: "json line", lines: []string{`{"level":"error","msg":"fail to validate backup store","backup-storage-location":"velero/default","error":"AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission.","time":"2026-11-21T02:00:00Z"}`},
		values: map[string]string{"namespace": "velero"}},
	{id: "container-not-found", lines: []string{storeFailure(blob + `RESPONSE 404: 404 The specified container does not exist.\nERROR CODE: ContainerNotFound` + dash)},
		values: map[string]string{"account": "backupsa01", "container": "velero"}},
	{id: "plugin-missing", lines: []string{lt + `level=error msg="Error getting a backup store"` + ctrl + ` error="unable to locate ObjectStore plugin named velero.io/azure" error.file="/go/src/github.com/vmware-tanzu/velero/pkg/plugin/clientmgmt/process/registry.go:252"`}},
	{id: "plugin-oom", name: "describe", lines: []string{
		`    Last State:     Terminated`,
		`      Reason:       OOMKilled`,
		`      Exit Code:    137`,
	}},
	{id: "plugin-oom", name: "plugin killed", lines: []string{lt + `level=warning msg="plugin process exited" cmd=/plugins/velero-plugin-for-microsoft-azure error="signal: killed" logSource="pkg/plugin/clientmgmt/process/logrus_adapter.go:80"`}},
	{id: "extension-egress-blocked", lines: []string{storeFailure(`WorkloadIdentityCredential: Post \"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token\": dial tcp 20.190.151.68:443: i/o timeout`)}},
	{id: "apiserver-unreachable", lines: []string{`E1121 02:00:00.123456       1 reflector.go:158] "Unhandled Error" err="pkg/mod/k8s.io/client-go@v0.33.3/tools/cache/reflector.go:285: Failed to watch *v1.BackupStorageLocation: failed to list *v1.BackupStorageLocation: Get \"https://10.0.0.1:443/apis/velero.io/v1/namespaces/velero/backupstoragelocations?limit=500\": dial tcp 10.0.0.1:443: i/o timeout" logger="UnhandledError"`}},
	{id: "insufficient-resources", lines: []string{`  Warning  FailedScheduling  2m (x4 over 7m)  default-scheduler  0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.`}},
	{id: "bsl-unavailable", lines: []string{lt + `level=error msg="Current BackupStorageLocations available/unavailable/unknown: 0/1/0, BackupStorageLocation \"default\" is unavailable: rpc error: code = Unknown desc = something new)" controller=backup-storage-location logSource="pkg/controller/backup_storage_location_controller.go:291"`}},
}

func analyze(t *testing.T, ctx Context, lines ...string) Report {
	t.Helper()
	a := NewAnalyzer(ctx)
	if err := a.Scan(strings.NewReader(strings.Join(lines, "\n")+"\n"), "test"); err != nil {
		t.Fatal(err)
	}
	return a.Report()
}

func TestCatalogEntries(t *testing.T) {
	for _, tc := range catalogCases {
		t.Run(tc.id+"/"+tc.name, func(t *testing.T) {
			rep := analyze(t, nil, tc.lines...)
			if len(rep.Findings) == 0 {
				t.Fatalf("nothing found in:\n%s", strings.Join(tc.lines, "\n"))
			}
			if got := rep.Findings[0].ID; got != tc.id {
				var ids []string
				for _, f := range rep.Findings {
					ids = append(ids, f.ID)
				}
				t.Fatalf("first finding %s, want %s (all: %v)", got, tc.id, ids)
			}
			f := rep.Findings[0]
			if len(f.Evidence) == 0 || f.Count != 1 || len(f.Remediation) == 0 || f.Title == "" {
				t.Errorf("incomplete finding: %+v", f)
			}
			checkRemediation(t, f.Remediation, tc.values)
		})
	}
}

// Every entry has a case here or in testdata/ (TestEveryEntryHasTestdata requires the latter).
func TestCatalogEveryEntryTested(t *testing.T) {
	tested := testdataExpectations(t)
	for _, tc := range catalogCases {
		tested[tc.id] = true
	}
	for _, s := range Catalog {
		if !tested[s.Def.ID] {
			t.Errorf("catalog entry %s has no test case", s.Def.ID)
		}
	}
	required := []string{"wi-not-injected", "token-file-unreadable", "federated-credential-mismatch", "oidc-issuer-disabled", "client-assertion-expired",
		"tenant-not-found", "oidc-issuer-unreachable", "pod-identity-intercept", "managed-identity-ambiguous", "blob-data-role-missing", "storage-network-blocked",
		"shared-key-disabled", "container-not-found", "storage-uri-invalid", "storage-account-read-denied", "bsl-config-incomplete", "storage-key-misconfigured",
		"subscription-invalid", "credentials-file-unreadable", "plugin-missing", "plugin-oom", "extension-egress-blocked", "apiserver-unreachable", "insufficient-resources",
		"credentials-incomplete", "storage-account-not-found", "storage-account-disabled", "storage-token-rejected", "backup-store-foreign-content",
		"extension-helm-failed", "extension-admission-denied", "extension-dataplane-denied"}
	for _, id := range required {
		if _, ok := signatureOf[id]; !ok {
			t.Errorf("required catalog ID %s is missing", id)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
