// Package preflight answers "can AKS Backup work on this cluster?" before the extension is installed:
// the Kubernetes version, the CSI drivers and snapshot support, which persistent volumes it can back
// up, AAD Pod Identity, room on Linux nodes, the proxy settings and, when the AKS cluster is known,
// its identity and flags in ARM. Every list is read page by page and only counters and a bounded
// sample of names are kept, so a cluster of tens of thousands of volumes costs no more memory than
// one page.
package preflight

import (
	"context"
	"fmt"

	snapshotclient "github.com/kubernetes-csi/external-snapshotter/client/v8/clientset/versioned"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

// DefaultPageSize is how many objects one list request asks for.
const DefaultPageSize = 500

// DefaultSamples is how many example names a volume class or finding keeps.
const DefaultSamples = 3

// Input is what the checks read from.
type Input struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Snapshots reads the snapshot.storage.k8s.io types with the external-snapshotter's own client.
	Snapshots snapshotclient.Interface
	// APIServerHost is the API server's host name or IP, which NO_PROXY must name.
	APIServerHost string
	// PageSize and Samples default to DefaultPageSize and DefaultSamples.
	PageSize int64
	Samples  int
	// Cluster holds the AKS cluster's ARM facts; nil when the cluster is not known (Azure skipped).
	Cluster *ClusterFacts
	// AzureSkipped says why Cluster is nil, for the report ("" when Azure was not wanted).
	AzureSkipped string
	// Providers are the caller's findings about the subscription's resource providers
	// (azurecheck.CheckProviders); ProvidersChecked says they were read.
	Providers        []findings.Finding
	ProvidersChecked bool
	// Portworx, when set, compares an identity's permissions with Portworx's documented actions.
	Portworx *PortworxInput
}

// Status of one check.
type Status string

const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusWarning Status = "warning"
	StatusSkipped Status = "skipped"
)

// Check is one row of the report's table.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Report is preflight's result; its JSON form is a documented contract (kind Preflight).
type Report struct {
	Kind              string             `json:"kind"`
	Ready             bool               `json:"ready"`
	KubernetesVersion string             `json:"kubernetesVersion,omitempty"`
	Checks            []Check            `json:"checks"`
	Volumes           Inventory          `json:"volumes"`
	Findings          []findings.Finding `json:"findings"`
	Summary           findings.Summary   `json:"summary"`
	// Requests counts what this run sent, when the caller counted it (the shape of doctor's).
	Requests *Requests `json:"requests,omitempty"`
}

// Requests is how many requests one run sent to the API server and to ARM.
type Requests struct {
	Kubernetes int64 `json:"kubernetes"`
	Azure      int64 `json:"azure"`
}

// Run runs every check. A forbidden read skips the checks that need it with a finding; any other
// failure to read is returned.
func Run(ctx context.Context, in Input) (*Report, error) {
	if in.PageSize <= 0 {
		in.PageSize = DefaultPageSize
	}
	if in.Samples <= 0 {
		in.Samples = DefaultSamples
	}
	r := &runner{in: in, report: &Report{Kind: "Preflight", Findings: []findings.Finding{}}}
	steps := []func(context.Context) error{
		r.checkVersion,
		r.checkCSIDrivers,
		r.checkSnapshots,
		r.checkVolumes,
		r.checkPodIdentity,
		r.checkNodesAndProxy,
		r.checkAzure,
		r.checkPortworx,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	r.report.Findings = findings.Rank(r.report.Findings)
	r.report.Summary = findings.Summarize(r.report.Findings)
	r.report.Ready = !findings.HasErrors(r.report.Findings)
	return r.report, nil
}

type runner struct {
	in     Input
	report *Report
}

func (r *runner) add(c Check, fs ...findings.Finding) {
	r.report.Checks = append(r.report.Checks, c)
	r.report.Findings = append(r.report.Findings, fs...)
}

// forbidden turns a forbidden read into a skipped check and its finding (true), so the caller moves
// on; other errors it leaves to the caller (false). resource is as kubectl names it
// ("persistentvolumes", "volumesnapshotclasses.snapshot.storage.k8s.io").
func (r *runner) forbidden(check, verb, resource string, err error) bool {
	if !apierrors.IsForbidden(err) {
		return false
	}
	what := verb + " " + resource
	r.add(Check{Name: check, Status: StatusSkipped, Detail: "not allowed to " + what},
		catalog.PreflightReadSkipped.New(check, fmt.Sprintf("not allowed to %s, so the %s check was skipped", what, check),
			fmt.Sprintf("kubectl auth can-i %s %s   # must say yes; or run preflight as a user with cluster-wide read access", verb, resource)))
	return true
}

// readError wraps a failed read with what was being read.
func readError(what string, err error) error {
	return fmt.Errorf("preflight could not %s: %w", what, err)
}
