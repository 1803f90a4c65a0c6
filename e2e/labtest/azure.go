package labtest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// AzureEnv is the environment that points the plugin at the lab's Azure doubles.
func (l *Lab) AzureEnv(t testing.TB) []string {
	t.Helper()
	secret, err := os.ReadFile(l.AdminSecretFile)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"SSL_CERT_FILE=" + l.CAFile, "AKSBACKUP_CLOUD_CONFIG=" + l.CloudConfig, "AZURE_SUBSCRIPTION_ID=" + l.Subscription,
		"AZURE_TENANT_ID=" + l.TenantID, "AZURE_CLIENT_ID=" + l.AdminClientID, "AZURE_CLIENT_SECRET=" + strings.TrimSpace(string(secret))}
}

// AdminSecret is the admin app's secret, so tests can assert it never appears in output.
func (l *Lab) AdminSecret(t testing.TB) string {
	t.Helper()
	secret, err := os.ReadFile(l.AdminSecretFile)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(secret))
}

func (l *Lab) httpClient() *http.Client {
	pool := x509.NewCertPool()
	if ca, err := os.ReadFile(l.CAFile); err == nil {
		pool.AppendCertsFromPEM(ca)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// AzureScenario switches the Azure doubles to a base state ("unwired" or "wired" for namespace) plus faults.
func (l *Lab) AzureScenario(t testing.TB, base, namespace string, faults ...string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"base": base, "namespace": namespace, "faults": faults})
	resp, err := l.httpClient().Post(l.ARMURL+"_lab/scenario", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("scenario %s %v: HTTP %d", base, faults, resp.StatusCode)
	}
	t.Cleanup(func() { l.AzureFaults(t) })
}

// AzureFaults makes ARM answer errors: each fault is {method, pathContains, status, code, times}.
func (l *Lab) AzureFaults(t testing.TB, faults ...map[string]any) {
	t.Helper()
	if faults == nil {
		faults = []map[string]any{}
	}
	body, _ := json.Marshal(faults)
	resp, err := l.httpClient().Post(l.ARMURL+"_lab/faults", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// ExchangeToken presents a service-account token to the Entra double as the extension identity,
// like azidentity's WorkloadIdentityCredential, and returns the HTTP status and body.
func (l *Lab) ExchangeToken(t testing.TB, clientID, assertion string) (int, string) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {"https://storage.azure.com/.default"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	resp, err := l.httpClient().PostForm(fmt.Sprintf("%s%s/oauth2/v2.0/token", l.EntraURL, l.TenantID), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}

// StorageToken exchanges a service-account token for a storage access token, failing the test otherwise.
func (l *Lab) StorageToken(t testing.TB, clientID, assertion string) string {
	t.Helper()
	code, body := l.ExchangeToken(t, clientID, assertion)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &tok) != nil {
		t.Fatalf("token exchange: HTTP %d", code)
	}
	return tok.AccessToken
}

// PutBlob writes a block blob through the blob front, as Velero does, and returns status and error code.
func (l *Lab) PutBlob(t testing.TB, token, container, name string) (int, string) {
	t.Helper()
	if l.BlobURL == "" {
		t.Fatal("the lab runs without Azurite (npm install failed?); rerun e2e/scripts/build-tools.sh")
	}
	req, _ := http.NewRequest(http.MethodPut, l.BlobURL+"devstoreaccount1/"+container+"/"+name, strings.NewReader("backup"))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("x-ms-blob-type", "BlockBlob")
	req.Header.Set("x-ms-version", "2021-08-06")
	resp, err := l.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("x-ms-error-code")
}
