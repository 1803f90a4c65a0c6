package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
)

// VerifierArgs are the in-cluster verifier's inputs; the plugin passes them as flags.
type VerifierArgs struct {
	RunID  string
	Target Target
	// AuthorityHost overrides AZURE_AUTHORITY_HOST (custom clouds).
	AuthorityHost   string
	ResourceManager cloud.ServiceConfiguration
	// CABundleDir holds extra PEM bundles (a TLS-inspecting proxy's CA), trusted beside the public roots.
	CABundleDir string
	NoNetwork   bool
}

// MaxTerminationMessage is the kubelet's limit on a termination message.
const MaxTerminationMessage = 4096

// publicAuthorities need instance discovery; any other authority is a custom cloud without it.
var publicAuthorities = []string{cloud.AzurePublic.ActiveDirectoryAuthorityHost, cloud.AzureGovernment.ActiveDirectoryAuthorityHost, cloud.AzureChina.ActiveDirectoryAuthorityHost}

// Verify is the verifier's probe: it checks the webhook's environment and the projected token file,
// then runs the same steps as local mode with that token. getenv is os.Getenv in the pod.
func Verify(ctx context.Context, a VerifierArgs, getenv func(string) string, now func() time.Time) *Result {
	cfg := Config{RunID: a.RunID, Mode: "cluster", Target: a.Target, Network: !a.NoNetwork, ResourceManager: a.ResourceManager, Now: now}
	start := now()
	env := Step{Name: StepEnv, Status: StatusOK}
	var missing []string
	for _, name := range []string{clientIDEnv, tenantIDEnv, federatedFileEnv, authorityHostEnv} {
		if getenv(name) == "" {
			missing = append(missing, name)
		}
	}
	env.LatencyMS = ms(now().Sub(start))
	if len(missing) > 0 {
		env.Status, env.FindingID = StatusFailed, catalog.WINotInjected.ID
		env.Detail = "the workload identity webhook injected no " + strings.Join(missing, ", ") + " into the verifier pod"
		return Blocked(cfg, env)
	}
	tokenFile := getenv(federatedFileEnv)
	start = now()
	tokenStep := Step{Name: StepTokenFile, Endpoint: tokenFile, Status: StatusOK}
	token, err := os.ReadFile(tokenFile)
	tokenStep.LatencyMS = ms(now().Sub(start))
	if err == nil && strings.Count(strings.TrimSpace(string(token)), ".") != 2 {
		err = errors.New("the file does not hold a JWT")
	}
	if err != nil {
		tokenStep.Status, tokenStep.FindingID, tokenStep.Detail = StatusFailed, catalog.TokenFileUnreadable.ID, oneLine(err)
		return Blocked(cfg, env, tokenStep)
	}
	transport, err := verifierTransport(a.CABundleDir)
	if err != nil {
		bundle := Step{Name: StepTLS, Endpoint: a.CABundleDir, Status: StatusFailed, FindingID: catalog.TLSFailed.ID, Detail: oneLine(err)}
		return Blocked(cfg, env, tokenStep, bundle)
	}
	authority := getenv(authorityHostEnv)
	if a.AuthorityHost != "" {
		authority = a.AuthorityHost
	}
	known := false
	for _, p := range publicAuthorities {
		known = known || strings.EqualFold(strings.TrimSuffix(p, "/"), strings.TrimSuffix(authority, "/"))
	}
	cfg.Transport = transport
	cfg.Prior = []Step{env, tokenStep}
	cfg.Identity = Identity{ClientID: getenv(clientIDEnv), TenantID: getenv(tenantIDEnv), AuthorityHost: authority, DisableInstanceDiscovery: !known,
		// The kubelet rotates the file: read it on every exchange, as azidentity's workload credential does.
		Assertion: func(context.Context) (string, error) {
			data, err := os.ReadFile(tokenFile)
			return strings.TrimSpace(string(data)), err
		}}
	return Run(ctx, cfg)
}

// verifierTransport trusts the system roots (the embedded public roots on a scratch image) and any
// PEM file in dir, and uses the proxy from the environment, as the component does.
func verifierTransport(dir string) (*http.Transport, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("reading the CA bundle directory %s: %w", dir, err)
		}
		added := 0
		for _, e := range entries {
			// ConfigMap volumes hold ..data symlinks; read the visible keys only.
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil && pool.AppendCertsFromPEM(data) {
				added++
			}
		}
		if added == 0 {
			return nil, fmt.Errorf("the CA bundle directory %s holds no PEM certificate", dir)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return tr, nil
}

// TerminationMessage is the compact JSON of a result, cut to fit the kubelet's 4 KiB limit: details
// of passing steps go first, then the failing step's detail is shortened.
func TerminationMessage(res *Result) []byte {
	compact := *res
	compact.Findings = nil
	compact.Steps = append([]Step(nil), res.Steps...)
	data, _ := json.Marshal(compact)
	for limit := 200; len(data) > MaxTerminationMessage && limit >= 0; limit -= 50 {
		for i := range compact.Steps {
			if len(compact.Steps[i].Detail) > limit {
				compact.Steps[i].Detail = compact.Steps[i].Detail[:limit]
			}
		}
		data, _ = json.Marshal(compact)
	}
	return data
}
