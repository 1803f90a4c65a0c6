package velerolab

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Doubles are the loopback base URLs of the lab's Azure doubles.
type Doubles struct {
	Entra, ARM, Blob, IMDS *url.URL
	// BlobAccountPath is the path-style account segment Azurite serves under ("/devstoreaccount1"),
	// put before the paths of requests that name the account in the host instead.
	BlobAccountPath string
	// Accounts are the storage accounts whose public blob host (<account>.blob.core.windows.net)
	// exists in the lab; others fail name resolution, as a mistyped account does in Azure.
	Accounts []string
	// BlobSuffix replaces .blob.core.windows.net for a lab that runs a custom cloud ("" = public).
	BlobSuffix string
}

// blobHostSuffix is ".blob.<storage suffix>" of the lab's cloud.
func (d Doubles) blobHostSuffix() string {
	if d.BlobSuffix != "" {
		return ".blob." + strings.TrimPrefix(d.BlobSuffix, ".")
	}
	return blobHost
}

const (
	entraHost = "login.microsoftonline.com"
	armHost   = "management.azure.com"
	imdsHost  = "169.254.169.254"
	blobHost  = ".blob.core.windows.net"
)

type route int

const (
	routeRefused route = iota
	routeEntra
	routeARM
	routeBlob
	routeIMDS
	routeLoopback
)

// Transport sends the Azure SDKs' requests for the real Azure hosts to the lab's loopback doubles.
// The doubles see the real host in the Host header; the response carries the original request, so
// the SDKs' error texts name the real Azure URLs, as in production logs. Any other host is refused:
// nothing leaves the machine.
type Transport struct {
	doubles Doubles
	// extraBlob are host:port pairs that also reach the blob front (a BSL's storageAccountURI).
	extraBlob map[string]bool
	base      http.RoundTripper
}

// NewBaseTransport trusts the lab CA and never uses a proxy.
func NewBaseTransport(caPEM []byte) (*http.Transport, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no certificate in the lab CA file")
	}
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}, nil
}

// NewTransport maps the Azure hosts to the doubles; extraBlobURIs are storage account URIs (from a
// BSL) whose hosts also reach the blob front.
func NewTransport(d Doubles, base http.RoundTripper, extraBlobURIs ...string) *Transport {
	t := &Transport{doubles: d, base: base, extraBlob: map[string]bool{}}
	for _, raw := range extraBlobURIs {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			t.extraBlob[hostPort(u)] = true
		}
	}
	return t
}

// Client is the transport as the Azure SDKs' policy.Transporter.
func (t *Transport) Client() *http.Client {
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

// hostPort is u's host with its port, the scheme's default when absent.
func hostPort(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(host, port)
}

func (t *Transport) route(u *url.URL) (route, *url.URL) {
	hp := hostPort(u)
	host := strings.ToLower(u.Hostname())
	for _, d := range []*url.URL{t.doubles.Entra, t.doubles.ARM, t.doubles.Blob, t.doubles.IMDS} {
		if d != nil && hostPort(d) == hp && u.Scheme == d.Scheme {
			return routeLoopback, d
		}
	}
	switch {
	case t.extraBlob[hp]:
		return routeBlob, t.doubles.Blob
	case u.Scheme == "https" && host == entraHost:
		return routeEntra, t.doubles.Entra
	case u.Scheme == "https" && host == armHost:
		return routeARM, t.doubles.ARM
	case u.Scheme == "http" && host == imdsHost:
		return routeIMDS, t.doubles.IMDS
	case u.Scheme == "https" && strings.HasSuffix(host, t.doubles.blobHostSuffix()):
		account := strings.TrimSuffix(host, t.doubles.blobHostSuffix())
		for _, a := range t.doubles.Accounts {
			if strings.EqualFold(a, account) {
				return routeBlob, t.doubles.Blob
			}
		}
	}
	return routeRefused, nil
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r, target := t.route(req.URL)
	if target == nil {
		if r == routeRefused && strings.HasSuffix(strings.ToLower(req.URL.Hostname()), t.doubles.blobHostSuffix()) {
			// A storage account that does not exist has no DNS name.
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: req.URL.Hostname(), IsNotFound: true}}
		}
		return nil, fmt.Errorf("the lab refuses %s %s://%s: only login.microsoftonline.com, management.azure.com, <account>.blob.core.windows.net, 169.254.169.254 and the BSL's storageAccountURI reach the lab's doubles", req.Method, req.URL.Scheme, req.URL.Host)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = target.Scheme, target.Host
	if r != routeLoopback {
		// The double sees the host the SDK asked for, as a server behind real DNS would.
		out.Host = req.URL.Host
	}
	if r == routeBlob {
		out.URL.Path = accountPath(t.doubles.BlobAccountPath, req.URL.Path)
		if req.URL.RawPath != "" {
			out.URL.RawPath = accountPath(t.doubles.BlobAccountPath, req.URL.RawPath)
		}
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	if r == routeBlob || (r == routeLoopback && target == t.doubles.Blob) {
		storageReasonPhrase(resp)
	}
	resp.Request = req
	return resp, nil
}

// accountPath puts the path-style account segment before a path that lacks it.
func accountPath(account, path string) string {
	switch {
	case account == "" || path == account || strings.HasPrefix(path, account+"/"):
		return path
	case path == "":
		return account
	}
	return account + path
}

var reStorageMessage = regexp.MustCompile(`<Message>([^\n<]*)`)

// storageReasonPhrase gives a storage error response the reason phrase Azure Storage sends: the
// error message ("404 The specified container does not exist."), which Go's HTTP server cannot
// write and which the SDK's error text and Velero's sanitized BSL message show.
func storageReasonPhrase(resp *http.Response) {
	if resp.StatusCode < 400 || resp.Header.Get("x-ms-error-code") == "" || resp.Body == nil {
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return
	}
	if m := reStorageMessage.FindSubmatch(body); m != nil && len(bytes.TrimSpace(m[1])) > 0 {
		resp.Status = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(m[1]))
	}
}
