package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

// Step names, in the order they run. Local mode starts with token-request, the verifier with env
// and token-file; both then check the network and run the storage steps.
const (
	StepWiring       = "wiring"
	StepEnv          = "env"
	StepTokenFile    = "token-file"
	StepTokenRequest = "token-request"
	StepDNS          = "dns"
	StepTCP          = "tcp"
	StepTLS          = "tls"
	StepProxy        = "proxy"
	StepExchange     = "token-exchange"
	StepListKeys     = "list-keys"
	StepList         = "list"
	StepPut          = "put"
	StepGet          = "get"
	StepDelete       = "delete"
	StepConfirmGone  = "confirm-gone"
	StepPod          = "pod"
)

// Step statuses.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
	StatusWarning = "warning"
)

// StorageScope is the Entra scope of Blob Storage tokens.
const StorageScope = "https://storage.azure.com/.default"

// Step is one link in the chain, with its latency. Its JSON is part of the probe's contract.
type Step struct {
	Name string `json:"name"`
	// Endpoint is the host a network step or request concerns.
	Endpoint   string  `json:"endpoint,omitempty"`
	Status     string  `json:"status"`
	LatencyMS  float64 `json:"latencyMs"`
	HTTPStatus int     `json:"httpStatus,omitempty"`
	Code       string  `json:"code,omitempty"`
	FindingID  string  `json:"findingId,omitempty"`
	Detail     string  `json:"detail,omitempty"`
}

// Result is one probe of one target.
type Result struct {
	RunID  string `json:"runId"`
	Mode   string `json:"mode"`
	Target Target `json:"target"`
	// Blob is the probe blob's full name in the container.
	Blob  string `json:"blob"`
	Steps []Step `json:"steps"`
	// OK is true when every step passed.
	OK bool `json:"ok"`
	// DurationMS is the whole probe, pod start included in cluster mode.
	DurationMS float64 `json:"durationMs"`
	// Findings is filled by Finalize from the failed steps; the verifier's compact result omits it.
	Findings []findings.Finding `json:"findings,omitempty"`
}

// Identity is who the probe acts as: the component's workload identity.
type Identity struct {
	ClientID, TenantID string
	// AuthorityHost is Entra's base URL, e.g. https://login.microsoftonline.com/.
	AuthorityHost string
	// DisableInstanceDiscovery is set for custom clouds, which have no discovery service.
	DisableInstanceDiscovery bool
	// Assertion returns the service account token; it is never logged.
	Assertion func(ctx context.Context) (string, error)
}

// Config is one probe run.
type Config struct {
	RunID    string
	Mode     string
	Target   Target
	Identity Identity
	// Transport sends every HTTP request (nil: Go's default, which honours HTTPS_PROXY and SSL_CERT_FILE).
	Transport *http.Transport
	// Network runs the DNS, TCP and TLS (or proxy) checks of the blob and Entra endpoints first.
	Network bool
	// ResourceManager is ARM's endpoint and audience, for listing the account keys when useAAD is false.
	ResourceManager cloud.ServiceConfiguration
	// StorageKey, when set, is used for key auth instead of listing the keys (never printed).
	StorageKey string
	// Prior steps (wiring, env, token file) run by the caller, put first in the result.
	Prior []Step
	Now   func() time.Time
}

type runner struct {
	cfg    Config
	res    *Result
	failed bool
}

// Run runs every step against the target and returns the result; it never returns an error: a step
// that fails is reported, and the steps after it are skipped (except the delete of a written blob).
func Run(ctx context.Context, cfg Config) *Result {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	start := cfg.Now()
	r := &runner{cfg: cfg, res: &Result{RunID: cfg.RunID, Mode: cfg.Mode, Target: cfg.Target, Blob: BlobName(cfg.Target.Prefix, cfg.RunID)}}
	for _, s := range cfg.Prior {
		r.add(s)
	}
	// A failed prior step that did not block (a missing pod label) fails the probe, not the steps.
	r.failed = false
	r.run(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// The bound ran out mid-step: say so instead of guessing at the network.
		for i := range r.res.Steps {
			if s := &r.res.Steps[i]; s.Status == StatusFailed && strings.Contains(s.Detail, "context deadline exceeded") {
				s.FindingID = catalog.ProbeTimeout.ID
			}
		}
	}
	for _, s := range cfg.Prior {
		r.failed = r.failed || s.Status == StatusFailed
	}
	r.res.OK = !r.failed
	for _, s := range r.res.Steps {
		// A warning whose finding is an error (Velero would mark the location Unavailable) fails the probe.
		if def, ok := findings.Lookup(s.FindingID); ok && s.Status == StatusWarning && def.Severity == findings.SeverityError {
			r.res.OK = false
		}
	}
	r.res.DurationMS = ms(cfg.Now().Sub(start))
	return r.res
}

func (r *runner) add(s Step) {
	if s.Status == StatusFailed {
		r.failed = true
	}
	r.res.Steps = append(r.res.Steps, s)
}

func (r *runner) skip(names ...string) {
	for _, n := range names {
		r.add(Step{Name: n, Status: StatusSkipped})
	}
}

// timed runs fn as a step; a failure is classified into the catalog.
func (r *runner) timed(name, endpoint string, fn func() error) bool {
	if r.failed {
		r.skip(name)
		return false
	}
	start := r.cfg.Now()
	err := fn()
	latency := ms(r.cfg.Now().Sub(start))
	s := Step{Name: name, Endpoint: endpoint, Status: StatusOK}
	if err != nil {
		s = Classify(err, r.cfg.Target.Host(), !r.cfg.Target.UseAAD).step(name, endpoint)
	}
	s.LatencyMS = latency
	r.add(s)
	return err == nil
}

func (r *runner) transport() *http.Transport {
	if r.cfg.Transport != nil {
		return r.cfg.Transport
	}
	return http.DefaultTransport.(*http.Transport)
}

func (r *runner) clientOptions() policy.ClientOptions {
	opts := policy.ClientOptions{Transport: &http.Client{Transport: r.transport()}}
	// Velero retries on its own schedule; the probe answers fast and reports the first failure.
	opts.Retry = policy.RetryOptions{MaxRetries: 1, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: time.Second}
	if r.cfg.Identity.AuthorityHost != "" {
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: r.cfg.Identity.AuthorityHost, Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: r.cfg.ResourceManager,
		}}
	}
	return opts
}

func (r *runner) run(ctx context.Context) {
	t := r.cfg.Target
	sharedKey := !t.UseAAD
	needToken := t.UseAAD || r.cfg.StorageKey == ""
	if r.cfg.Network && !r.failed {
		r.checkNetwork(ctx, t.ServiceURL)
		if needToken && r.cfg.Identity.AuthorityHost != "" {
			r.checkNetwork(ctx, r.cfg.Identity.AuthorityHost)
		}
	}
	var cred azcore.TokenCredential
	if needToken {
		r.timed(StepExchange, hostOf(r.cfg.Identity.AuthorityHost), func() error {
			var err error
			cred, err = r.credential()
			if err != nil {
				return err
			}
			scope := StorageScope
			if sharedKey {
				scope = strings.TrimSuffix(r.cfg.ResourceManager.Audience, "/") + "/.default"
			}
			// EnableCAE as the SDK clients ask: azidentity caches CAE and non-CAE tokens apart.
			_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}, EnableCAE: true})
			return err
		})
	}
	var client *azblob.Client
	if sharedKey {
		key := r.cfg.StorageKey
		if key == "" {
			r.timed(StepListKeys, hostOf(r.cfg.ResourceManager.Endpoint), func() error {
				var err error
				key, err = r.listKey(ctx, cred)
				return err
			})
		}
		if !r.failed {
			kc, err := azblob.NewSharedKeyCredential(t.Account, key)
			if err == nil {
				client, err = azblob.NewClientWithSharedKeyCredential(t.ServiceURL, kc, &azblob.ClientOptions{ClientOptions: r.clientOptions()})
			}
			if err != nil {
				r.add(Step{Name: StepList, Status: StatusFailed, FindingID: catalog.StorageKeyMisconfigured.ID, Detail: "building the shared key client failed: " + oneLine(err)})
			}
		}
	} else if !r.failed {
		var err error
		if client, err = azblob.NewClient(t.ServiceURL, cred, &azblob.ClientOptions{ClientOptions: r.clientOptions()}); err != nil {
			r.add(Step{Name: StepList, Status: StatusFailed, FindingID: catalog.StorageURIInvalid.ID, Detail: oneLine(err)})
		}
	}
	if r.failed {
		r.skip(StepList, StepPut, StepGet, StepDelete, StepConfirmGone)
		return
	}
	r.storageSteps(ctx, client)
}

// storageSteps: list as Velero's IsValid, put, get, delete, confirm gone.
func (r *runner) storageSteps(ctx context.Context, client *azblob.Client) {
	t := r.cfg.Target
	host := hostOf(t.ServiceURL)
	var foreign []string
	r.timed(StepList, host, func() error {
		dirs, err := ListCommonPrefixes(ctx, client, t.Container, t.Prefix)
		foreign = InvalidTopLevelDirs(t.Prefix, dirs)
		return err
	})
	if !r.failed && len(foreign) > 0 {
		last := &r.res.Steps[len(r.res.Steps)-1]
		last.Status, last.FindingID = StatusWarning, catalog.BackupStoreForeignContent.ID
		last.Detail = fmt.Sprintf("Velero's validation would fail: invalid top-level directories %v under %q", foreign, t.Prefix)
	}
	blob := r.res.Blob
	payload := make([]byte, 32)
	_, _ = rand.Read(payload)
	payload = []byte("aksbackup probe " + r.cfg.RunID + " " + hex.EncodeToString(payload) + "\n")
	written := r.timed(StepPut, host, func() error {
		_, err := client.UploadBuffer(ctx, t.Container, blob, payload, nil)
		return err
	})
	r.timed(StepGet, host, func() error {
		resp, err := client.DownloadStream(ctx, t.Container, blob, nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(payload))+1024))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, payload) {
			return errReadMismatch
		}
		return nil
	})
	if last := &r.res.Steps[len(r.res.Steps)-1]; last.Name == StepGet && last.Status == StatusFailed && last.Detail == errReadMismatch.Error() {
		last.FindingID = catalog.ReadBackMismatch.ID
	}
	if written && r.failed {
		// A later step failed: still remove what the probe wrote, and report that delete.
		r.failed = false
		defer func() { r.failed = true }()
	}
	deleted := r.timed(StepDelete, host, func() error {
		_, err := client.DeleteBlob(ctx, t.Container, blob, nil)
		return err
	})
	if !deleted {
		return
	}
	r.timed(StepConfirmGone, host, func() error {
		_, err := client.ServiceClient().NewContainerClient(t.Container).NewBlobClient(blob).GetProperties(ctx, nil)
		if bloberror.HasCode(err, bloberror.BlobNotFound) {
			return nil
		}
		var respErr *azcore.ResponseError
		if errors.As(err, &respErr) && respErr.StatusCode == http.StatusNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		return errBlobLeft
	})
	if last := &r.res.Steps[len(r.res.Steps)-1]; last.Name == StepConfirmGone && last.Status == StatusFailed && last.Detail == errBlobLeft.Error() {
		last.FindingID = catalog.ProbeBlobLeft.ID
	}
}

var (
	errReadMismatch = errors.New("the bytes read back differ from the bytes written")
	errBlobLeft     = errors.New("the blob still exists after its delete")
)

func (r *runner) credential() (azcore.TokenCredential, error) {
	id := r.cfg.Identity
	if id.ClientID == "" || id.TenantID == "" {
		return nil, fmt.Errorf("no client ID or tenant ID for the token exchange")
	}
	return azidentity.NewClientAssertionCredential(id.TenantID, id.ClientID, id.Assertion, &azidentity.ClientAssertionCredentialOptions{
		ClientOptions: r.clientOptions(), DisableInstanceDiscovery: id.DisableInstanceDiscovery})
}

// listKey lists the account's keys through ARM with the component's identity, as Velero does when
// useAAD is false.
func (r *runner) listKey(ctx context.Context, cred azcore.TokenCredential) (string, error) {
	t := r.cfg.Target
	if t.Subscription == "" || t.ResourceGroup == "" {
		return "", fmt.Errorf("key auth (useAAD is not true) needs the BSL's subscriptionId and resourceGroup to list the account's keys")
	}
	client, err := armstorage.NewAccountsClient(t.Subscription, cred, &arm.ClientOptions{ClientOptions: r.clientOptions()})
	if err != nil {
		return "", err
	}
	resp, err := client.ListKeys(ctx, t.ResourceGroup, t.Account, nil)
	if err != nil {
		return "", err
	}
	for _, k := range resp.Keys {
		if k != nil && k.Value != nil && k.Permissions != nil && strings.EqualFold(string(*k.Permissions), string(armstorage.KeyPermissionFull)) {
			return *k.Value, nil
		}
	}
	return "", fmt.Errorf("the account has no key with Full permissions")
}

// ListCommonPrefixes lists the "directories" directly under prefix, as Velero's IsValid does.
func ListCommonPrefixes(ctx context.Context, client *azblob.Client, containerName, prefix string) ([]string, error) {
	opts := &container.ListBlobsHierarchyOptions{}
	if prefix != "" {
		opts.Prefix = &prefix
	}
	pager := client.ServiceClient().NewContainerClient(containerName).NewListBlobsHierarchyPager("/", opts)
	var dirs []string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return dirs, err
		}
		for _, p := range page.Segment.BlobPrefixes {
			if p.Name != nil {
				dirs = append(dirs, *p.Name)
			}
		}
	}
	return dirs, nil
}

// VeleroTopLevelDirs are the directories Velero's object store layout owns under a BSL prefix
// (velero pkg/persistence NewObjectStoreLayout; a unit test checks this list against that source).
var VeleroTopLevelDirs = []string{"backups", "restores", "restic", "metadata", "plugins", "kopia"}

// InvalidTopLevelDirs applies Velero's IsValid rule to a listing: every common prefix under the root
// prefix must be one of Velero's directories.
func InvalidTopLevelDirs(prefix string, dirs []string) []string {
	root := RootPrefix(prefix)
	var invalid []string
	for _, d := range dirs {
		sub := strings.TrimSuffix(strings.TrimPrefix(d, root), "/")
		ok := false
		for _, v := range VeleroTopLevelDirs {
			ok = ok || sub == v
		}
		if !ok {
			invalid = append(invalid, sub)
		}
	}
	return invalid
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// tlsConfigFor clones the transport's TLS settings for a handshake with host.
func tlsConfigFor(t *http.Transport, host string) *tls.Config {
	var c *tls.Config
	if t != nil && t.TLSClientConfig != nil {
		c = t.TLSClientConfig.Clone()
	} else {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	c.ServerName = hostOnly(host)
	return c
}

// NewBlobClient builds the Entra-authenticated blob client of cfg's target and identity (cleanup
// uses it; the probe builds its own to time the exchange apart).
func NewBlobClient(cfg Config) (*azblob.Client, error) {
	r := &runner{cfg: cfg}
	cred, err := r.credential()
	if err != nil {
		return nil, err
	}
	return azblob.NewClient(cfg.Target.ServiceURL, cred, &azblob.ClientOptions{ClientOptions: r.clientOptions()})
}

// Millis is a duration as a step's latency.
func Millis(d time.Duration) float64 { return ms(d) }
