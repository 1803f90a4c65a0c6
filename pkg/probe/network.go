package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
)

// dialTimeout bounds each network check: a dropped SYN shows as a timeout, not a hang.
const dialTimeout = 5 * time.Second

// checkNetwork checks one endpoint: through the proxy when the transport sends its requests through
// one (a tunnel with CONNECT, then TLS inside), else DNS, TCP and TLS directly.
func (r *runner) checkNetwork(ctx context.Context, rawURL string) {
	if r.failed {
		return
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return
	}
	target := hostPort(u)
	tr := r.transport()
	if tr.Proxy != nil {
		proxyURL, err := tr.Proxy(&http.Request{Method: http.MethodConnect, URL: u, Host: u.Host})
		if err == nil && proxyURL != nil {
			r.timed(StepProxy, target+" via "+proxyURL.Host, func() error { return tunnel(ctx, proxyURL, target, u.Scheme == "https", tr) })
			if last := r.res.Steps[len(r.res.Steps)-1]; r.failed && strings.Contains(last.Detail, "proxyconnect") {
				r.overrideLast(catalog.ProxyFailed.ID)
			}
			return
		}
	}
	host := u.Hostname()
	if net.ParseIP(host) == nil {
		r.timed(StepDNS, host, func() error {
			lctx, cancel := context.WithTimeout(ctx, dialTimeout)
			defer cancel()
			_, err := net.DefaultResolver.LookupHost(lctx, host)
			return err
		})
	}
	var conn net.Conn
	r.timed(StepTCP, target, func() error {
		var err error
		conn, err = (&net.Dialer{Timeout: dialTimeout}).DialContext(ctx, "tcp", target)
		return err
	})
	if r.failed {
		r.overrideLast(catalog.ExtensionEgressBlocked.ID)
		return
	}
	defer conn.Close()
	if u.Scheme != "https" {
		return
	}
	r.timed(StepTLS, target, func() error { return handshake(ctx, conn, tlsConfigFor(tr, u.Host)) })
	if r.failed {
		r.overrideLast(catalog.TLSFailed.ID)
	}
}

// overrideLast pins the last failed step's finding to the layer that was being checked: a timeout in
// the TLS step is a TLS problem, whatever the error text says.
func (r *runner) overrideLast(id string) {
	last := &r.res.Steps[len(r.res.Steps)-1]
	if last.Status != StatusFailed || last.FindingID == catalog.StorageURIInvalid.ID || last.FindingID == catalog.DNSFailed.ID {
		return
	}
	last.FindingID = id
}

func handshake(ctx context.Context, conn net.Conn, cfg *tls.Config) error {
	hctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	tc := tls.Client(conn, cfg)
	return tc.HandshakeContext(hctx)
}

// tunnel opens a CONNECT tunnel through the proxy and shakes hands with the target inside it.
func tunnel(ctx context.Context, proxyURL *url.URL, target string, useTLS bool, tr *http.Transport) error {
	conn, err := (&net.Dialer{Timeout: dialTimeout}).DialContext(ctx, "tcp", hostPort(proxyURL))
	if err != nil {
		return fmt.Errorf("proxyconnect: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(dialTimeout))
	if proxyURL.Scheme == "https" {
		pc := tls.Client(conn, tlsConfigFor(tr, proxyURL.Host))
		if err := pc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("proxyconnect: TLS with the proxy: %w", err)
		}
		conn = pc
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
	if proxyURL.User != nil {
		req.Header.Set("Proxy-Authorization", basicAuth(proxyURL.User))
	}
	if err := req.Write(conn); err != nil {
		return fmt.Errorf("proxyconnect: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return fmt.Errorf("proxyconnect: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("proxyconnect: the proxy answered %s to CONNECT %s", resp.Status, target)
	}
	_ = conn.SetDeadline(time.Time{})
	if !useTLS {
		return nil
	}
	host, _, _ := net.SplitHostPort(target)
	return handshake(ctx, conn, tlsConfigFor(tr, host))
}

func basicAuth(u *url.Userinfo) string {
	pass, _ := u.Password()
	req := &http.Request{Header: http.Header{}}
	req.SetBasicAuth(u.Username(), pass)
	return req.Header.Get("Authorization")
}
