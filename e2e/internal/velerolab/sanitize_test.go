package velerolab

import (
	"regexp"
	"strconv"
	"testing"
)

const sep = "--------------------------------------------------------------------------------"

// azureStorageError is azcore's ResponseError text for an Azure Storage XML error.
func azureStorageError(method, url string, status int, reason, code, message string) string {
	return method + " " + url + "\n" + sep + "\n" +
		"RESPONSE " + itoa(status) + ": " + itoa(status) + " " + reason + "\n" +
		"ERROR CODE: " + code + "\n" + sep + "\n" +
		"\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" + code + "</Code><Message>" + message +
		"\nRequestId:1d5c2f6e-701e-0042-4f1b-3d8a2c000000\nTime:2026-11-22T22:00:00.0000000Z</Message></Error>\n" + sep + "\n"
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestStatusMessage(t *testing.T) {
	prefix := `BackupStorageLocation "default" is unavailable: rpc error: code = Unknown desc = `
	workload := "WorkloadIdentityCredential authentication failed. \nPOST https://login.microsoftonline.com/t/oauth2/v2.0/token\n" + sep +
		"\nRESPONSE 400: 400 Bad Request\n" + sep + "\n{\n  \"error\": \"invalid_client\",\n  \"error_description\": \"AADSTS700213: No matching federated identity record found\"\n}\n" + sep +
		"\nTo troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#workload"
	tests := []struct {
		name, in, want string
	}{
		{"container not found", prefix + azureStorageError("GET", "https://labstorage.blob.core.windows.net/velero", 404, "The specified container does not exist.", "ContainerNotFound", "The specified container does not exist."),
			prefix + "ContainerNotFound: The specified container does not exist."},
		{"permission mismatch", prefix + azureStorageError("GET", "https://127.0.0.1/devstoreaccount1/velero", 403, "This request is not authorized to perform this operation using this permission.", "AuthorizationPermissionMismatch", "This request is not authorized to perform this operation using this permission."),
			prefix + "AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission."},
		{"reason phrase is used when the XML message spans lines", prefix + azureStorageError("GET", "https://a.blob.core.windows.net/velero", 403, "Forbidden", "AuthorizationFailure", "This request is not authorized to perform this operation."),
			prefix + "AuthorizationFailure: Forbidden"},
		{"one-line XML message wins", prefix + "GET https://a/x\n" + sep + "\nRESPONSE 409: 409 Conflict\nERROR CODE: ContainerBeingDeleted\n" + sep + "\n<Error><Code>ContainerBeingDeleted</Code><Message>The specified container is being deleted.</Message></Error>\n",
			prefix + "ContainerBeingDeleted: The specified container is being deleted."},
		{"code without message", "RESPONSE 500: \nERROR CODE: InternalError\n", "InternalError"},
		{"authentication errors stay whole", prefix + workload, prefix + workload},
		{"plain errors stay whole", prefix + "no client ID specified. Check pod configuration or set ClientID in the options", prefix + "no client ID specified. Check pod configuration or set ClientID in the options"},
		{"SAS parameters are scrubbed", "GET https://a.blob.core.windows.net/c/b?sv=2021-08-06&se=2026-11-23T00%3A00%3A00Z&sr=b&sp=r&sig=abc%2Bdef 403",
			"GET https://a.blob.core.windows.net/c/b?sv=***REDACTED***&se=***REDACTED***&sr=***REDACTED***&sp=***REDACTED***&sig=***REDACTED*** 403"},
		{"SAS scrubbed inside an Azure error", prefix + azureStorageError("GET", "https://a.blob.core.windows.net/velero?sig=secret&restype=container", 404, "The specified container does not exist.", "ContainerNotFound", "The specified container does not exist."),
			prefix + "ContainerNotFound: The specified container does not exist."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StatusMessage(tc.in); got != tc.want {
				t.Errorf("StatusMessage:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func FuzzStatusMessage(f *testing.F) {
	f.Add(azureStorageError("GET", "https://a.blob.core.windows.net/velero?sig=x", 404, "The specified container does not exist.", "ContainerNotFound", "m"))
	f.Add("rpc error: code = Unknown desc = RESPONSE ERROR CODE:")
	sig := regexp.MustCompile(`[?&]sig=([^&\s<>]+)`)
	f.Fuzz(func(t *testing.T, in string) {
		out := StatusMessage(in)
		for _, m := range sig.FindAllStringSubmatch(out, -1) {
			if m[1] != "***REDACTED***" {
				t.Errorf("a SAS signature survived: %q", out)
			}
		}
	})
}
