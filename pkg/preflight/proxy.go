package preflight

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

// ProxyConfig is AKS's httpProxyConfig. The proxy URLs are never printed: they may hold credentials.
type ProxyConfig struct {
	HTTPProxy  string   `json:"-"`
	HTTPSProxy string   `json:"-"`
	NoProxy    []string `json:"noProxy,omitempty"`
}

// Enabled says whether a proxy is set at all.
func (p *ProxyConfig) Enabled() bool { return p != nil && (p.HTTPProxy != "" || p.HTTPSProxy != "") }

// SplitNoProxy splits a NO_PROXY value into its entries.
func SplitNoProxy(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// MissingNoProxy returns the required targets that no entry of noProxy covers, in order.
func MissingNoProxy(noProxy, required []string) []string {
	var missing []string
	for _, target := range required {
		if !slices.ContainsFunc(noProxy, func(entry string) bool { return covers(entry, target) }) {
			missing = append(missing, target)
		}
	}
	return missing
}

// covers reports whether a NO_PROXY entry makes a request to target bypass the proxy, the way Go's
// and curl's proxy code read it: "*"; the same host; a domain entry (with or without a leading dot)
// covering its subdomains; a CIDR containing an IP. A target with a leading dot (".svc") stands for
// every name under that domain, so only an entry for it or a parent domain covers it.
func covers(entry, target string) bool {
	entry, target = strings.ToLower(strings.TrimSpace(entry)), strings.ToLower(target)
	if entry == "*" {
		return true
	}
	if host, _, err := net.SplitHostPort(entry); err == nil {
		entry = host // "host:port" still names the host
	}
	if prefix, err := netip.ParsePrefix(entry); err == nil {
		ip, err := netip.ParseAddr(target)
		return err == nil && prefix.Contains(ip)
	}
	domain := strings.TrimPrefix(entry, ".")
	if domain == "" {
		return false
	}
	if wildcard, ok := strings.CutPrefix(target, "."); ok {
		return wildcard == domain || strings.HasSuffix(wildcard, "."+domain)
	}
	return target == domain || strings.HasSuffix(target, "."+domain)
}

// proxyObservation is where a proxy setting was seen and its NO_PROXY entries.
type proxyObservation struct {
	source  string // "cluster/httpProxyConfig" or "pod/ns/name"
	noProxy []string
	fromARM bool
}

// proxyFindings checks each observed NO_PROXY. ARM's list is checked without the entries AKS adds
// by itself; a pod's is what the pod really uses.
func (r *runner) proxyFindings(seen []proxyObservation) []findings.Finding {
	var fs []findings.Finding
	for _, o := range seen {
		required := slices.Clone(RequiredNoProxy)
		have := o.noProxy
		if o.fromARM {
			have = append(slices.Clone(have), AKSDefaultNoProxy...)
		} else if r.in.APIServerHost != "" {
			required = append(required, r.in.APIServerHost)
		}
		missing := MissingNoProxy(have, required)
		if len(missing) == 0 {
			continue
		}
		fs = append(fs, catalog.ProxyNoProxyIncomplete.New(o.source,
			fmt.Sprintf("NO_PROXY lacks %s", strings.Join(missing, ", ")), r.noProxyFix(o.noProxy, missing)))
	}
	return fs
}

// noProxyFix names the complete noProxy list to set; AKS takes it from a JSON file.
func (r *runner) noProxyFix(current, missing []string) string {
	list, _ := json.Marshal(append(slices.Clone(current), missing...))
	return r.azAKS("update", "--http-proxy-config proxy.json") + "   # proxy.json: your httpProxy and httpsProxy, and \"noProxy\": " + string(list)
}
