// Package bsl inspects Velero BackupStorageLocations: phase, default, freshness of validation and
// sync, provider, bucket and the Azure config keys; the status message goes through log triage, so
// "Unavailable" comes with its root cause and fix.
package bsl

import (
	"context"
	"fmt"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"sort"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/triage"
)

// Resource is velero.io/v1 backupstoragelocations.
var Resource = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backupstoragelocations"}

// Velero's defaults when the BSL leaves the periods unset (velero server --store-validation-frequency
// and --backup-sync-period).
const (
	DefaultValidationFrequency = time.Minute
	DefaultSyncPeriod          = time.Minute
)

// AzureConfigKeys are the config keys velero-plugin-for-microsoft-azure reads for object storage.
var AzureConfigKeys = []string{"storageAccount", "resourceGroup", "subscriptionId", "useAAD", "storageAccountURI", "storageAccountKeyEnvVar", "activeDirectoryAuthorityURI", "credentialsFile", "blockSizeInBytes"}

// Location is one BSL as `bsl` reports it (JSON contract documented in the README).
type Location struct {
	Name                string             `json:"name"`
	Namespace           string             `json:"namespace"`
	Phase               string             `json:"phase"`
	Default             bool               `json:"default"`
	Provider            string             `json:"provider"`
	Bucket              string             `json:"bucket"`
	Prefix              string             `json:"prefix,omitempty"`
	Config              map[string]string  `json:"config"`
	LastValidationTime  *time.Time         `json:"lastValidationTime,omitempty"`
	LastSyncedTime      *time.Time         `json:"lastSyncedTime,omitempty"`
	ValidationFrequency string             `json:"validationFrequency"`
	ValidationStale     bool               `json:"validationStale"`
	SyncStale           bool               `json:"syncStale"`
	Message             string             `json:"message,omitempty"`
	Findings            []findings.Finding `json:"findings"`
}

// Available reports whether Velero last validated the location successfully.
func (l Location) Available() bool {
	return l.Phase == string(velerov1.BackupStorageLocationPhaseAvailable)
}

// Report is `bsl -o json`.
type Report struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Namespace  string           `json:"namespace"`
	Locations  []Location       `json:"backupStorageLocations"`
	Summary    findings.Summary `json:"summary"`
	// Findings not tied to one location (none found).
	Findings []findings.Finding `json:"findings,omitempty"`
}

// Healthy: no error findings.
func (r *Report) Healthy() bool { return r.Summary.Errors == 0 }

// AllAvailable: every location is Available.
func (r *Report) AllAvailable() bool {
	if len(r.Locations) == 0 {
		return false
	}
	for _, l := range r.Locations {
		if !l.Available() {
			return false
		}
	}
	return true
}

// ErrNotFound means the named location does not exist; ErrNoCRD that the cluster has no
// BackupStorageLocation resource at all.
var (
	ErrNotFound = fmt.Errorf("BackupStorageLocation not found")
	ErrNoCRD    = fmt.Errorf("the cluster has no velero.io/v1 BackupStorageLocation resource")
)

// Read lists the namespace's locations (or the one named) and analyses them at time now.
func Read(ctx context.Context, client dynamic.Interface, namespace, name string, now time.Time) (*Report, error) {
	var items []unstructured.Unstructured
	if name != "" {
		u, err := client.Resource(Resource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w: %s/%s (list them with: kubectl aksbackup bsl -n %s)", ErrNotFound, namespace, name, namespace)
		}
		if err != nil {
			return nil, err
		}
		items = append(items, *u)
	} else {
		list, err := client.Resource(Resource).Namespace(namespace).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%w: Velero's CRDs are not installed (is the AKS Backup extension or Velero installed? `kubectl get crd backupstoragelocations.velero.io`)", ErrNoCRD)
		}
		if err != nil {
			return nil, err
		}
		items = list.Items
	}
	return fromItems(namespace, items, now)
}

// fromItems decodes the objects read and analyses them.
func fromItems(namespace string, items []unstructured.Unstructured, now time.Time) (*Report, error) {
	var locs []velerov1.BackupStorageLocation
	for _, u := range items {
		var b velerov1.BackupStorageLocation
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &b); err != nil {
			return nil, fmt.Errorf("decoding BackupStorageLocation %s/%s: %w", u.GetNamespace(), u.GetName(), err)
		}
		locs = append(locs, b)
	}
	return Analyze(namespace, locs, now), nil
}

// Analyze builds the report from the objects; it reads nothing.
func Analyze(namespace string, locs []velerov1.BackupStorageLocation, now time.Time) *Report {
	r := &Report{APIVersion: identity.APIVersion, Kind: "BackupStorageLocationReport", Namespace: namespace, Locations: []Location{}}
	sort.Slice(locs, func(i, j int) bool { return locs[i].Name < locs[j].Name })
	var all []findings.Finding
	for _, b := range locs {
		l := inspect(b, now)
		all = append(all, l.Findings...)
		r.Locations = append(r.Locations, l)
	}
	if len(locs) == 0 {
		r.Findings = []findings.Finding{catalog.BSLMissing.New("namespace/"+namespace, fmt.Sprintf("No BackupStorageLocation in namespace %s.", namespace),
			"kubectl get backupstoragelocations -A   # is the product installed in another namespace? use -n",
			"kubectl aksbackup identity status -n "+namespace)}
		all = append(all, r.Findings...)
	}
	r.Summary = findings.Summarize(all)
	return r
}

func inspect(b velerov1.BackupStorageLocation, now time.Time) Location {
	l := Location{
		Name: b.Name, Namespace: b.Namespace, Phase: string(b.Status.Phase), Default: b.Spec.Default, Provider: b.Spec.Provider,
		Config: map[string]string{}, Message: redact.String(b.Status.Message), Findings: []findings.Finding{},
	}
	if store := b.Spec.ObjectStorage; store != nil {
		l.Bucket, l.Prefix = store.Bucket, store.Prefix
	}
	for k, v := range b.Spec.Config {
		l.Config[k] = redact.String(v)
	}
	freq := DefaultValidationFrequency
	if b.Spec.ValidationFrequency != nil {
		freq = b.Spec.ValidationFrequency.Duration
	}
	l.ValidationFrequency = freq.String()
	syncPeriod := DefaultSyncPeriod
	if b.Spec.BackupSyncPeriod != nil {
		syncPeriod = b.Spec.BackupSyncPeriod.Duration
	}
	object := "backupstoragelocation/" + b.Namespace + "/" + b.Name
	add := func(f findings.Finding) {
		f.Object = object
		f.Component = b.Name
		l.Findings = append(l.Findings, f)
	}
	if t := b.Status.LastValidationTime; t != nil {
		v := t.UTC()
		l.LastValidationTime = &v
		// Velero re-enqueues every 10 s and validates when the frequency has passed: allow two periods.
		if freq > 0 && now.Sub(v) > 2*freq+30*time.Second {
			l.ValidationStale = true
			add(catalog.BSLValidationStale.New(object, fmt.Sprintf("Last validated %s ago; Velero validates every %s.", age(now.Sub(v)), freq),
				fmt.Sprintf("kubectl get pods -n %s   # is Velero running?", b.Namespace),
				fmt.Sprintf("kubectl aksbackup triage -n %s", b.Namespace)))
		}
	}
	if t := b.Status.LastSyncedTime; t != nil {
		v := t.UTC()
		l.LastSyncedTime = &v
		if syncPeriod > 0 && l.Available() && now.Sub(v) > 2*syncPeriod+30*time.Second {
			l.SyncStale = true
			add(catalog.BSLSyncStale.New(object, fmt.Sprintf("Last synced %s ago; the sync period is %s.", age(now.Sub(v)), syncPeriod),
				fmt.Sprintf("kubectl aksbackup triage -n %s", b.Namespace)))
		}
	}
	if strings.EqualFold(b.Spec.Provider, "azure") || strings.HasSuffix(b.Spec.Provider, "/azure") {
		if b.Spec.Config["storageAccount"] == "" {
			add(catalog.BSLAzureConfigMissing.New(object, "config.storageAccount is not set.",
				fmt.Sprintf(`kubectl patch bsl -n %s %s --type merge -p '{"spec":{"config":{"storageAccount":"<account>"}}}'`, b.Namespace, b.Name)))
		}
		if !strings.EqualFold(b.Spec.Config["useAAD"], "true") && b.Spec.Config["storageAccountKeyEnvVar"] == "" {
			add(catalog.BSLNotUsingAAD.New(object, fmt.Sprintf("config.useAAD is %q.", b.Spec.Config["useAAD"]),
				fmt.Sprintf(`kubectl patch bsl -n %s %s --type merge -p '{"spec":{"config":{"useAAD":"true"}}}'`, b.Namespace, b.Name)))
		}
	}
	switch b.Status.Phase {
	case velerov1.BackupStorageLocationPhaseUnavailable:
		ctx := triage.Context{"namespace": b.Namespace, "bsl": b.Name, "container": l.Bucket,
			"account": b.Spec.Config["storageAccount"], "resourceGroup": b.Spec.Config["resourceGroup"], "subscription": b.Spec.Config["subscriptionId"]}
		a := triage.NewAnalyzer(ctx)
		a.AddText(b.Status.Message, object)
		rep := a.Report()
		hasSymptom := false
		for _, f := range rep.Findings {
			f.Evidence = nil // the message is shown once, above
			hasSymptom = hasSymptom || f.ID == catalog.BSLUnavailable.ID
			add(f)
		}
		if !hasSymptom {
			add(catalog.BSLUnavailable.New(object, "", fmt.Sprintf("kubectl aksbackup triage -n %s", b.Namespace)))
		}
	case "":
		add(catalog.BSLNotValidated.New(object, "Velero has not set a phase yet.", fmt.Sprintf("kubectl aksbackup triage -n %s", b.Namespace)))
	}
	l.Findings = findings.Rank(l.Findings)
	return l
}

// age renders a duration as kubectl get's AGE column does (duration.HumanDuration).
func age(d time.Duration) string { return duration.HumanDuration(d) }

// Age renders a duration like kubectl's AGE column.
func Age(d time.Duration) string { return age(d) }
