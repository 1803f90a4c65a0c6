package velerolab

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRoute(t *testing.T) {
	d := Doubles{Entra: mustURL(t, "https://127.0.0.1:1001/"), ARM: mustURL(t, "https://127.0.0.1:1002/"), Blob: mustURL(t, "https://127.0.0.1:1003/"),
		IMDS: mustURL(t, "http://127.0.0.1:1004/"), BlobAccountPath: "/devstoreaccount1", Accounts: []string{"labstorage"}}
	tr := NewTransport(d, nil, "https://127.0.0.1/devstoreaccount1", "")
	tests := []struct {
		url  string
		want route
	}{
		{"https://login.microsoftonline.com/tenant/oauth2/v2.0/token", routeEntra},
		{"https://LOGIN.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration", routeEntra},
		{"https://management.azure.com/subscriptions/x", routeARM},
		{"https://labstorage.blob.core.windows.net/velero", routeBlob},
		{"https://127.0.0.1/devstoreaccount1/velero", routeBlob},
		{"https://127.0.0.1:443/devstoreaccount1/velero", routeBlob},
		{"http://169.254.169.254/metadata/identity/oauth2/token", routeIMDS},
		{"https://127.0.0.1:1003/devstoreaccount1/velero", routeLoopback},
		{"https://otheraccount.blob.core.windows.net/velero", routeRefused},
		{"http://login.microsoftonline.com/tenant/oauth2/v2.0/token", routeRefused},
		{"https://169.254.169.254/metadata/identity/oauth2/token", routeRefused},
		{"https://127.0.0.1:1004/", routeRefused},
		{"https://example.com/", routeRefused},
		{"https://login.microsoftonline.com.evil.example/", routeRefused},
		{"https://127.0.0.1:6443/api", routeRefused},
	}
	for _, tc := range tests {
		if got, _ := tr.route(mustURL(t, tc.url)); got != tc.want {
			t.Errorf("route(%s) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestAccountPath(t *testing.T) {
	for in, want := range map[string]string{"/velero": "/devstoreaccount1/velero", "": "/devstoreaccount1", "/": "/devstoreaccount1/",
		"/devstoreaccount1/velero": "/devstoreaccount1/velero", "/devstoreaccount1": "/devstoreaccount1", "/devstoreaccount10/x": "/devstoreaccount1/devstoreaccount10/x"} {
		if got := accountPath("/devstoreaccount1", in); got != want {
			t.Errorf("accountPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTransportMapsAndRefuses runs the transport against local servers standing in for the doubles.
func TestTransportMapsAndRefuses(t *testing.T) {
	var hits atomic.Int32
	type seen struct{ host, path string }
	got := make(chan seen, 10)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		got <- seen{r.Host, r.URL.Path}
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.Header().Set("x-ms-error-code", "ContainerNotFound")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ContainerNotFound</Code><Message>The specified container does not exist.\nRequestId:x\nTime:y</Message></Error>")
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	entra, blob := httptest.NewTLSServer(handler), httptest.NewTLSServer(handler)
	imds := httptest.NewServer(handler)
	defer entra.Close()
	defer blob.Close()
	defer imds.Close()
	d := Doubles{Entra: mustURL(t, entra.URL), ARM: mustURL(t, entra.URL), Blob: mustURL(t, blob.URL), IMDS: mustURL(t, imds.URL),
		BlobAccountPath: "/devstoreaccount1", Accounts: []string{"labstorage"}}
	client := NewTransport(d, entra.Client().Transport).Client()

	cases := []struct {
		url, host, path, status string
	}{
		{"https://login.microsoftonline.com/t/oauth2/v2.0/token", "login.microsoftonline.com", "/t/oauth2/v2.0/token", "200 OK"},
		{"https://labstorage.blob.core.windows.net/missing?restype=container&comp=list", "labstorage.blob.core.windows.net", "/devstoreaccount1/missing", "404 The specified container does not exist."},
		{"http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01", "169.254.169.254", "/metadata/identity/oauth2/token", "200 OK"},
	}
	for _, tc := range cases {
		resp, err := client.Get(tc.url)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.url, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s := <-got
		if s.host != tc.host || s.path != tc.path {
			t.Errorf("GET %s reached the double as Host %q path %q, want %q %q", tc.url, s.host, s.path, tc.host, tc.path)
		}
		if resp.Status != tc.status || len(body) == 0 {
			t.Errorf("GET %s: status %q (body %d bytes), want %q", tc.url, resp.Status, len(body), tc.status)
		}
		if resp.Request == nil || resp.Request.URL.String() != tc.url {
			t.Errorf("GET %s: the response carries request %v, want the original", tc.url, resp.Request.URL)
		}
	}

	before := hits.Load()
	for _, raw := range []string{"https://example.com/", "https://127.0.0.1:1/", "https://management.azure.com.example.org/"} {
		_, err := client.Get(raw)
		if err == nil || !strings.Contains(err.Error(), "the lab refuses") {
			t.Errorf("GET %s: %v, want a refusal", raw, err)
		}
	}
	_, err := client.Get("https://notanaccount.blob.core.windows.net/velero")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound || !strings.Contains(err.Error(), "no such host") {
		t.Errorf("an unknown storage account: %v, want a DNS not-found error", err)
	}
	if hits.Load() != before {
		t.Error("a refused request reached a double")
	}
}
