package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe/probetest"
)

const fakeSAToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlLXNlY3JldA"

func testConfig(f *probetest.Azure, mutate func(*Config)) Config {
	tr := f.Srv.Client().Transport.(*http.Transport).Clone()
	tr.Proxy = nil
	cfg := Config{
		RunID: "testrun-0001", Mode: "local", Network: true, Transport: tr,
		Target: Target{BSL: "default", Container: "velero", Prefix: "", Account: "devstoreaccount1", ServiceURL: f.Srv.URL + "/devstoreaccount1", UseAAD: true},
		Identity: Identity{ClientID: "c0ffee00-aaaa-4bbb-8ccc-000000000001", TenantID: probetest.Tenant, AuthorityHost: f.Srv.URL + "/", DisableInstanceDiscovery: true,
			Assertion: func(context.Context) (string, error) { return fakeSAToken, nil }},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	return cfg
}

// failedStep returns the first failed or warning step.
func failedStep(res *Result) *Step {
	for i := range res.Steps {
		if res.Steps[i].Status == StatusFailed || res.Steps[i].Status == StatusWarning {
			return &res.Steps[i]
		}
	}
	return nil
}

func stepNames(res *Result) string {
	var out []string
	for _, s := range res.Steps {
		out = append(out, s.Name+"="+s.Status)
	}
	return strings.Join(out, " ")
}

// reportedIDs finalizes res as the probe command does (Report.Add) and returns the IDs of the
// findings a user sees: product code makes each through its catalog definition.
func reportedIDs(res *Result) []string {
	rep := NewReport("aksbackup.kubectl.io/v1alpha1", "velero", "velero", res.Mode)
	rep.Add(res)
	var ids []string
	for _, f := range res.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

func TestRun(t *testing.T) {
	// refusingProxy is an HTTP proxy that answers every CONNECT with status, as a corporate proxy
	// does for a host it does not allow (403) or for a client without credentials (407).
	refusingProxy := func(status int) *url.URL {
		p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodConnect {
				t.Errorf("the proxy got %s %s, want CONNECT", r.Method, r.URL)
			}
			if status == http.StatusProxyAuthRequired {
				w.Header().Set("Proxy-Authenticate", `Basic realm="corp"`)
			}
			http.Error(w, "tunnel not allowed by policy", status)
		}))
		t.Cleanup(p.Close)
		u, _ := url.Parse(p.URL)
		return u
	}
	closedPort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	tests := []struct {
		name     string
		setup    func(*probetest.Azure)
		config   func(*Config, *probetest.Azure)
		ok       bool
		step     string
		finding  string
		code     string
		leftover bool
	}{
		{name: "healthy", ok: true},
		{name: "healthy under a prefix with Velero's directories", ok: true,
			setup:  func(f *probetest.Azure) { f.Blobs["velero/cluster-a/backups/b1/velero-backup.json"] = []byte("{}") },
			config: func(c *Config, _ *probetest.Azure) { c.Target.Prefix = "cluster-a/" }},
		{name: "wrong federated subject", setup: func(f *probetest.Azure) { f.EntraError = 700213 }, step: StepExchange, finding: "federated-credential-mismatch", code: "AADSTS700213"},
		{name: "issuer without slash", setup: func(f *probetest.Azure) { f.EntraError = 700211 }, step: StepExchange, finding: "federated-credential-mismatch", code: "AADSTS700211"},
		{name: "unknown AADSTS code", setup: func(f *probetest.Azure) { f.EntraError = 50000 }, step: StepExchange, finding: catalog.TokenExchangeFailed.ID, code: "AADSTS50000"},
		{name: "no data role", setup: func(f *probetest.Azure) { f.FailOp["list"] = "AuthorizationPermissionMismatch" }, step: StepList, finding: "blob-data-role-missing", code: "AuthorizationPermissionMismatch"},
		{name: "read-only role", setup: func(f *probetest.Azure) { f.FailOp["put"] = "AuthorizationPermissionMismatch" }, step: StepPut, finding: "blob-data-role-missing"},
		{name: "network rules deny", setup: func(f *probetest.Azure) { f.FailOp["list"] = "AuthorizationFailure" }, step: StepList, finding: "storage-network-blocked"},
		{name: "container missing", setup: func(f *probetest.Azure) { delete(f.Containers, "velero") }, step: StepList, finding: "container-not-found", code: "ContainerNotFound"},
		{name: "shared key disabled with key auth", setup: func(f *probetest.Azure) { f.FailOp["list"] = "KeyBasedAuthenticationNotPermitted" },
			config: func(c *Config, _ *probetest.Azure) {
				c.Target.UseAAD = false
				c.StorageKey = "ZmFrZS1rZXktZm9yLXRlc3RzLW9ubHktMDEyMzQ1Njc4OQ=="
			}, step: StepList, finding: "shared-key-disabled"},
		{name: "foreign directory under the prefix", setup: func(f *probetest.Azure) { f.Blobs["velero/other-tool/x"] = []byte("x") }, step: StepList, finding: catalog.BackupStoreForeignContent.ID, ok: false},
		{name: "bytes differ on read", setup: func(f *probetest.Azure) { f.Corrupt = true }, step: StepGet, finding: catalog.ReadBackMismatch.ID},
		{name: "delete does not delete", setup: func(f *probetest.Azure) { f.KeepOnDelete = true }, step: StepConfirmGone, finding: catalog.ProbeBlobLeft.ID, leftover: true},
		{name: "blob endpoint refuses connections", config: func(c *Config, _ *probetest.Azure) {
			c.Target.ServiceURL = "https://" + closedPort() + "/devstoreaccount1"
		},
			step: StepTCP, finding: catalog.ExtensionEgressBlocked.ID},
		{name: "untrusted certificate", config: func(c *Config, _ *probetest.Azure) { c.Transport = &http.Transport{} }, step: StepTLS, finding: catalog.TLSFailed.ID},
		{name: "proxy unreachable", config: func(c *Config, _ *probetest.Azure) {
			proxy := &url.URL{Scheme: "http", Host: closedPort()}
			c.Transport.Proxy = http.ProxyURL(proxy)
		}, step: StepProxy, finding: catalog.ProxyFailed.ID},
		{name: "proxy refuses the CONNECT", config: func(c *Config, _ *probetest.Azure) {
			c.Transport.Proxy = http.ProxyURL(refusingProxy(http.StatusForbidden))
		},
			step: StepProxy, finding: catalog.ProxyFailed.ID},
		{name: "proxy wants credentials", config: func(c *Config, _ *probetest.Azure) {
			c.Transport.Proxy = http.ProxyURL(refusingProxy(http.StatusProxyAuthRequired))
		}, step: StepProxy, finding: catalog.ProxyFailed.ID},
		{name: "immutability policy refuses the delete", setup: func(f *probetest.Azure) { f.FailOp["delete"] = "BlobImmutableDueToPolicy" },
			step: StepDelete, finding: catalog.StorageRequestFailed.ID, code: "BlobImmutableDueToPolicy", leftover: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := probetest.New(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			cfg := testConfig(f, func(c *Config) {
				if tt.config != nil {
					tt.config(c, f)
				}
			})
			res := Run(context.Background(), cfg)
			if res.OK != tt.ok {
				t.Fatalf("OK = %v, want %v; steps: %s; failed: %+v", res.OK, tt.ok, stepNames(res), failedStep(res))
			}
			if tt.ok {
				for _, want := range []string{StepList, StepPut, StepGet, StepDelete, StepConfirmGone, StepExchange, StepTCP, StepTLS} {
					if !strings.Contains(stepNames(res), want+"=ok") {
						t.Errorf("step %s not ok: %s", want, stepNames(res))
					}
				}
			} else {
				s := failedStep(res)
				if s == nil || s.Name != tt.step || s.FindingID != tt.finding {
					t.Fatalf("failed step = %+v, want %s with %s; steps: %s", s, tt.step, tt.finding, stepNames(res))
				}
				if tt.code != "" && s.Code != tt.code {
					t.Errorf("code = %q, want %q", s.Code, tt.code)
				}
			}
			var wantIDs []string
			if !tt.ok {
				wantIDs = []string{tt.finding}
			}
			if got := reportedIDs(res); !slices.Equal(got, wantIDs) {
				t.Errorf("reported findings %v, want %v; steps: %s", got, wantIDs, stepNames(res))
			}
			f.Mu.Lock()
			left := len(f.Blobs)
			for k := range f.Blobs {
				if !strings.Contains(k, BlobPrefix) {
					left--
				}
			}
			f.Mu.Unlock()
			if (left > 0) != tt.leftover {
				t.Errorf("probe blobs left: %d, want leftover=%v", left, tt.leftover)
			}
			if !strings.HasPrefix(res.Blob, cfg.Target.Prefix+BlobPrefix) || strings.Contains(strings.TrimPrefix(res.Blob, cfg.Target.Prefix), "/") {
				t.Errorf("blob %q is not flat under prefix %q", res.Blob, cfg.Target.Prefix)
			}
			data, _ := json.Marshal(res)
			if strings.Contains(string(data), fakeSAToken) || strings.Contains(string(data), "fake-access-token") {
				t.Errorf("the result holds a token: %s", data)
			}
		})
	}
}

func TestRunSendsTheServiceAccountTokenOnlyToEntra(t *testing.T) {
	f := probetest.New(t)
	res := Run(context.Background(), testConfig(f, nil))
	if !res.OK {
		t.Fatalf("steps: %s", stepNames(res))
	}
	if len(f.Assertions) != 1 || f.Assertions[0] != fakeSAToken {
		t.Errorf("Entra got %d assertions, want the service account token once", len(f.Assertions))
	}
}

func TestRunKeepsGoingToDeleteAfterAFailedRead(t *testing.T) {
	f := probetest.New(t)
	f.FailOp["get"] = "AuthorizationPermissionMismatch"
	res := Run(context.Background(), testConfig(f, nil))
	if !strings.Contains(stepNames(res), "get=failed delete=ok confirm-gone=ok") {
		t.Errorf("steps: %s", stepNames(res))
	}
	if res.OK {
		t.Error("a failed read must fail the probe")
	}
}

func TestClassify(t *testing.T) {
	// The errors are the values the Go runtime and the Azure SDK return: LookupHost's *net.DNSError,
	// the *url.Error an HTTP client wraps a failed dial or handshake in, azcore's *ResponseError.
	entraDNS := &net.DNSError{Err: "no such host", Name: "login.microsoftonline.com", Server: "10.0.0.10:53", IsNotFound: true}
	tokenURL := "https://login.microsoftonline.com/" + probetest.Tenant + "/oauth2/v2.0/token"
	storageErr := func(status int, code string) error {
		req := httptest.NewRequest(http.MethodDelete, "https://labstorage.blob.core.windows.net/velero/aksbackup-probe-x", nil)
		resp := &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{}, Request: req,
			Body: io.NopCloser(strings.NewReader("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" + code + "</Code><Message>m</Message></Error>"))}
		if code != "" {
			resp.Header.Set("x-ms-error-code", code)
		}
		return runtime.NewResponseError(resp)
	}
	tests := []struct {
		name string
		err  error
		step string
		want string
	}{
		{"blob host does not resolve", &net.DNSError{Err: "no such host", Name: "labstorage.blob.core.windows.net", IsNotFound: true}, StepDNS, catalog.StorageURIInvalid.ID},
		{"entra host does not resolve", entraDNS, StepDNS, catalog.DNSFailed.ID},
		{"entra host does not resolve for the token request", &url.Error{Op: "Post", URL: tokenURL, Err: &net.OpError{Op: "dial", Net: "tcp", Err: entraDNS}}, StepExchange, catalog.DNSFailed.ID},
		{"proxy refuses the dial", errors.New(`Get "https://x": proxyconnect tcp: dial tcp 10.0.0.9:3128: connect: connection refused`), StepProxy, catalog.ProxyFailed.ID},
		{"proxy wants credentials for a blob request", storageErr(http.StatusProxyAuthRequired, ""), StepPut, catalog.ProxyFailed.ID},
		{"tls text", errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), StepTLS, catalog.TLSFailed.ID},
		{"certificate of an unknown authority", &url.Error{Op: "Post", URL: tokenURL, Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}, StepExchange, catalog.TLSFailed.ID},
		{"not TLS on the other end", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, StepTLS, catalog.TLSFailed.ID},
		{"timeout", &net.OpError{Op: "dial", Err: timeoutErr{}}, StepTCP, catalog.ExtensionEgressBlocked.ID},
		{"no data role", storageErr(http.StatusForbidden, "AuthorizationPermissionMismatch"), StepPut, catalog.BlobDataRoleMissing.ID},
		{"storage error the catalog has no entry for", storageErr(http.StatusConflict, "BlobImmutableDueToPolicy"), StepDelete, catalog.StorageRequestFailed.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.err, "labstorage.blob.core.windows.net:443", false)
			if got.FindingID != tt.want {
				t.Fatalf("Classify = %q, want %q", got.FindingID, tt.want)
			}
			res := &Result{Mode: "local", Target: Target{BSL: "default", Account: "labstorage", Container: "velero"}, Steps: []Step{got.step(tt.step, "")}}
			if ids := reportedIDs(res); !slices.Equal(ids, []string{tt.want}) {
				t.Errorf("reported findings %v, want [%s]", ids, tt.want)
			}
			if msg := res.Findings[0].Message; !strings.Contains(msg, "step "+tt.step+" failed") {
				t.Errorf("message %q does not name the step", msg)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestRunTimesOutInsteadOfHanging(t *testing.T) {
	hang := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	f := probetest.New(t)
	cfg := testConfig(f, func(c *Config) {
		c.Target.ServiceURL = hang.URL + "/devstoreaccount1"
		c.Transport = hang.Client().Transport.(*http.Transport).Clone()
	})
	cfg.Identity.AuthorityHost = f.Srv.URL + "/"
	cfg.Transport.TLSClientConfig.RootCAs.AddCert(f.Srv.Certificate())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res := Run(ctx, cfg)
	if res.OK {
		t.Fatal("a hanging endpoint must fail the probe")
	}
	if s := failedStep(res); s == nil || s.Name != StepList || s.FindingID != catalog.ProbeTimeout.ID {
		t.Errorf("failed step = %+v, want list with probe-timeout; steps: %s", s, stepNames(res))
	}
}

func TestCleanupBlobsTouchesNothingButOldProbeBlobs(t *testing.T) {
	f := probetest.New(t)
	now := time.Now()
	oldID, youngID := NewRunID(now.Add(-2*time.Hour)), NewRunID(now)
	keep := []string{"velero/cluster-a/" + BlobPrefix + youngID, "velero/cluster-a/backups/b1/velero-backup.json", "velero/cluster-a/" + BlobPrefix + "not-a-run-id",
		"velero/cluster-a/" + BlobPrefix + oldID + "/nested", "velero/" + BlobPrefix + oldID, "velero/cluster-a/" + BlobPrefix + oldID + "-suffix"}
	for _, k := range keep {
		f.Blobs[k] = []byte("x")
	}
	f.Blobs["velero/cluster-a/"+BlobPrefix+oldID] = []byte("x")
	cfg := testConfig(f, func(c *Config) { c.Target.Prefix = "cluster-a/" })
	client, err := NewBlobClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := CleanupBlobs(context.Background(), client, cfg.Target, now.Add(-time.Hour), false)
	if err != nil || len(got) != 1 || got[0].Name != "cluster-a/"+BlobPrefix+oldID || !got[0].Deleted {
		t.Fatalf("cleanup = %+v, %v", got, err)
	}
	for _, k := range keep {
		if _, ok := f.Blobs[k]; !ok {
			t.Errorf("cleanup deleted %s", k)
		}
	}
	if len(f.Blobs) != len(keep) {
		t.Errorf("%d blobs left, want %d", len(f.Blobs), len(keep))
	}
}
