package azurelab

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestIMDS(t *testing.T) {
	tests := []struct {
		name, target string
		metadata     bool
		status       int
		body         string
	}{
		{"user-assigned identity not on the node pool", IMDSTokenPath + "?api-version=2018-02-01&client_id=c0ffee00&resource=https%3A%2F%2Fstorage.azure.com", true, 400,
			`{"error":"invalid_request","error_description":"Identity not found"}`},
		{"system-assigned", IMDSTokenPath + "?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F", true, 400,
			`{"error":"invalid_request","error_description":"Identity not found"}`},
		{"no Metadata header", IMDSTokenPath + "?api-version=2018-02-01&resource=x", false, 400,
			`{"error":"invalid_request","error_description":"Required metadata header not specified"}`},
		{"no resource", IMDSTokenPath + "?api-version=2018-02-01", true, 400,
			`{"error":"invalid_request","error_description":"Required query variable 'resource' is missing"}`},
		{"other path", "/metadata/instance", true, 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "http://169.254.169.254"+tc.target, nil)
			if tc.metadata {
				req.Header.Set("Metadata", "true")
			}
			rec := httptest.NewRecorder()
			IMDS{}.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.status || (tc.body != "" && string(body) != tc.body) {
				t.Errorf("%d %s, want %d %s", rec.Code, body, tc.status, tc.body)
			}
		})
	}
}

func TestPublicHost(t *testing.T) {
	for host, want := range map[string]bool{"login.microsoftonline.com": true, "management.azure.com": true, "127.0.0.1:4443": false,
		"localhost:80": false, "[::1]:443": false, "": false, "10.0.0.1": true} {
		if got := publicHost(host); got != want {
			t.Errorf("publicHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestBlobFrontContainerMissing checks the container-missing fault: Azurite still has the
// container, the front answers ContainerNotFound for it once it is gone from the account.
func TestBlobFrontContainerMissing(t *testing.T) {
	proxied := 0
	azurite := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { proxied++ }))
	defer azurite.Close()
	st, err := Scenario("wired", "ns", []string{"container-missing"}, "t", "https://issuer", "https://front/devstoreaccount1/", "s")
	if err != nil {
		t.Fatal(err)
	}
	front := NewBlobFront(&Store{s: st}, mustParse(t, azurite.URL), http.DefaultTransport)
	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{http.MethodGet, "/devstoreaccount1/velero?restype=container&comp=list", 404},
		{http.MethodPut, "/devstoreaccount1/velero/backups/b1/velero-backup.json", 404},
		{http.MethodPut, "/devstoreaccount1/velero?restype=container", 200},
		{http.MethodGet, "/devstoreaccount1/other?restype=container&comp=list", 200},
	} {
		rec := httptest.NewRecorder()
		front.ServeHTTP(rec, httptest.NewRequest(tc.method, "https://front"+tc.target, nil))
		if rec.Code != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.target, rec.Code, tc.status)
		}
		if tc.status == 404 && (rec.Header().Get("x-ms-error-code") != "ContainerNotFound" || !strings.Contains(rec.Body.String(), "<Message>The specified container does not exist.\nRequestId:")) {
			t.Errorf("%s %s: %s %s", tc.method, tc.target, rec.Header(), rec.Body)
		}
	}
	if proxied != 2 {
		t.Errorf("%d requests reached Azurite, want 2", proxied)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
