// Package profile defines what "the backup component" is for each supported product: which
// service accounts and deployments carry the workload identity, and how they are normally configured.
// Profiles are data in one table; no product gets its own code path.
package profile

import (
	"fmt"
	"sort"
	"strings"
)

// Workload kinds a pair may name; their pods carry the identity.
const (
	KindDeployment  = "Deployment"
	KindDaemonSet   = "DaemonSet"
	KindStatefulSet = "StatefulSet"
)

// Workload is a pod controller, named as kubectl names it (deployment/velero, daemonset/node-agent).
type Workload struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Deployment is the workload reference for a Deployment, the kind most profiles use.
func Deployment(name string) Workload { return Workload{Kind: KindDeployment, Name: name} }

// Resource is the lowercase resource name kubectl commands take (deployment, daemonset, statefulset).
func (w Workload) Resource() string { return strings.ToLower(w.Kind) }

// Ref is the kubectl reference, e.g. daemonset/node-agent.
func (w Workload) Ref() string { return w.Resource() + "/" + w.Name }

// String is Ref, for messages.
func (w Workload) String() string { return w.Ref() }

// ParseWorkload reads KIND/NAME as kubectl accepts it (deployment/x, deploy/x, ds/x, sts/x, plurals too).
// A bare NAME is a Deployment.
func ParseWorkload(s string) (Workload, error) {
	s = strings.TrimSpace(s)
	kind, name, found := strings.Cut(s, "/")
	if !found {
		return Deployment(s), nil
	}
	name = strings.TrimSpace(name)
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "deployment", "deployments", "deploy":
		return Workload{Kind: KindDeployment, Name: name}, nil
	case "daemonset", "daemonsets", "ds":
		return Workload{Kind: KindDaemonSet, Name: name}, nil
	case "statefulset", "statefulsets", "sts":
		return Workload{Kind: KindStatefulSet, Name: name}, nil
	}
	return Workload{}, fmt.Errorf("workload %q: unsupported kind %q; use deployment/NAME, daemonset/NAME or statefulset/NAME", s, kind)
}

// Pair is one service account and the workload whose pods run as it.
type Pair struct {
	ServiceAccount string   `json:"serviceAccount"`
	Workload       Workload `json:"workload"`
	// StorageContainer is the container that talks to Blob Storage ("" when any container may).
	StorageContainer string `json:"storageContainer,omitempty"`
}

// HelmValues names the chart values that hold the wiring, so the tool can print `--set` flags that
// survive a `helm upgrade`.
type HelmValues struct {
	ServiceAccountAnnotations string
	// PodLabels are the chart maps of pod labels, one per workload of the profile that the chart runs.
	PodLabels []string
	// Chart is the chart reference for the printed helm upgrade line.
	Chart string
	// ReleaseNamespace is where the release lives when that is not the profile's namespace.
	ReleaseNamespace string
}

// Profile describes one product.
type Profile struct {
	Name        string
	Description string
	// Namespace is where the product installs itself; "" means it must come from -n.
	Namespace string
	Pairs     []Pair
	// HelmRelease is the release that owns the objects when the product installs them ("" if unknown).
	HelmRelease string
	// Helm holds the chart values for the wiring; nil when the chart cannot set them.
	Helm *HelmValues
	// HelmFirst means Helm values are the supported way to configure this product, so commands lead
	// with them instead of treating them as a footnote.
	HelmFirst bool
	// Owner explains who reverts live patches, for the drift warning.
	Owner string
	// ExtensionType is the AKS cluster extension that installs the product ("" if none).
	ExtensionType string
}

// Name of the profile used when --profile is not given.
const Default = "aks-backup"

// Custom is the name reported for --service-account/--deployment pairs.
const Custom = "custom"

var builtIn = []Profile{
	{
		Name:        "aks-backup",
		Description: "AKS Backup extension (microsoft.dataprotection.kubernetes, Velero-based)",
		Namespace:   "dataprotection-microsoft",
		Pairs: []Pair{
			{ServiceAccount: "dataprotection-microsoft-controller-sa", Workload: Deployment("dataprotection-microsoft-controller")},
			{ServiceAccount: "dataprotection-microsoft-kubernetes-agent-server", Workload: Deployment("dataprotection-microsoft-kubernetes-agent"), StorageContainer: "velero"},
			{ServiceAccount: "dataprotection-microsoft-geneva-sa", Workload: Deployment("dataprotection-microsoft-geneva-service")},
		},
		HelmRelease:   "azure-aks-backup",
		Owner:         "the AKS Backup extension's Helm release azure-aks-backup; an extension upgrade or auto-upgrade can revert live patches",
		ExtensionType: "microsoft.dataprotection.kubernetes",
	},
	{
		Name:        "velero",
		Description: "Velero with velero-plugin-for-microsoft-azure",
		Namespace:   "velero",
		// node-agent runs file-system backups and the data mover, which write to the same storage with the
		// same identity. (Its container is not named as the storage container: triage reads Deployment logs only.)
		Pairs: []Pair{
			{ServiceAccount: "velero", Workload: Deployment("velero"), StorageContainer: "velero"},
			{ServiceAccount: "velero", Workload: Workload{Kind: KindDaemonSet, Name: "node-agent"}},
		},
		// The chart's node-agent DaemonSet takes its own pod labels (nodeAgent.podLabels), not podLabels.
		HelmRelease: "velero",
		Helm:        &HelmValues{ServiceAccountAnnotations: "serviceAccount.server.annotations", PodLabels: []string{"podLabels", "nodeAgent.podLabels"}, Chart: "vmware-tanzu/velero"},
		Owner:       "the velero Helm release; a helm upgrade reverts live patches",
	},
	{
		Name:        "upbound-spaces",
		Description: "Upbound Spaces control-plane backups (mxp-controller)",
		Pairs:       []Pair{{ServiceAccount: "mxp-controller", Workload: Deployment("mxp-controller")}},
		// The Spaces chart (release spaces in upbound-system) sets these for every control plane's mxp-controller.
		HelmRelease: "spaces",
		Helm: &HelmValues{
			ServiceAccountAnnotations: "controlPlanes.mxpController.serviceAccount.annotations",
			PodLabels:                 []string{"controlPlanes.mxpController.pod.customLabels"},
			Chart:                     "oci://xpkg.upbound.io/spaces-artifacts/spaces",
			ReleaseNamespace:          "upbound-system",
		},
		HelmFirst: true,
		Owner:     "the Spaces Helm release; set these values there, live patches are reverted on upgrade",
	},
}

// Names returns the built-in profile names, for help and completion.
func Names() []string {
	names := make([]string, 0, len(builtIn))
	for _, p := range builtIn {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return names
}

// Selection is what the user asked for on the command line.
type Selection struct {
	Profile         string
	ServiceAccounts []string
	// Workloads pair with ServiceAccounts in order: KIND/NAME, or a bare NAME for a Deployment
	// (--deployment NAME and --workload KIND/NAME both land here, in command-line order).
	Workloads []string
	// Namespace is the -n value, or "" when -n was not given.
	Namespace string
	// DefaultNamespace is the kubeconfig context's namespace, used when neither -n nor the profile names one.
	DefaultNamespace string
}

// Resolve turns a selection into a concrete profile with its namespace set.
func Resolve(sel Selection) (Profile, error) {
	if len(sel.ServiceAccounts) != len(sel.Workloads) {
		return Profile{}, fmt.Errorf("--service-account and --deployment/--workload come in pairs: got %d service accounts and %d workloads", len(sel.ServiceAccounts), len(sel.Workloads))
	}
	var p Profile
	if len(sel.ServiceAccounts) > 0 {
		if sel.Profile != "" && sel.Profile != Custom {
			return Profile{}, fmt.Errorf("--profile %s cannot be combined with --service-account/--deployment pairs: drop one of them", sel.Profile)
		}
		p = Profile{Name: Custom, Description: "service account / workload pairs given on the command line"}
		seen := map[Workload]bool{}
		for i := range sel.ServiceAccounts {
			workload, err := ParseWorkload(sel.Workloads[i])
			if err != nil {
				return Profile{}, err
			}
			pair := Pair{ServiceAccount: strings.TrimSpace(sel.ServiceAccounts[i]), Workload: workload}
			if pair.ServiceAccount == "" || pair.Workload.Name == "" {
				return Profile{}, fmt.Errorf("pair %d has an empty --service-account or --deployment/--workload", i+1)
			}
			if seen[pair.Workload] {
				return Profile{}, fmt.Errorf("%s is named twice", pair.Workload.Ref())
			}
			seen[pair.Workload] = true
			p.Pairs = append(p.Pairs, pair)
		}
	} else {
		name := sel.Profile
		if name == "" {
			name = Default
		}
		found := false
		for _, candidate := range builtIn {
			if candidate.Name == name {
				p, found = clone(candidate), true
				break
			}
		}
		if !found {
			return Profile{}, fmt.Errorf("unknown profile %q: use one of %s, or give --service-account/--deployment pairs", name, strings.Join(Names(), ", "))
		}
	}
	switch {
	case sel.Namespace != "":
		p.Namespace = sel.Namespace
	case p.Namespace != "":
	case p.Name == Custom && sel.DefaultNamespace != "":
		p.Namespace = sel.DefaultNamespace
	default:
		return Profile{}, fmt.Errorf("profile %s has no fixed namespace: give the namespace with -n (for Upbound Spaces, the control plane's namespace)", p.Name)
	}
	return p, nil
}

func clone(p Profile) Profile {
	p.Pairs = append([]Pair(nil), p.Pairs...)
	return p
}

// SelectorFlags renders the flags that select this profile again, for remediation commands.
func (p Profile) SelectorFlags() string {
	var b strings.Builder
	switch p.Name {
	case Default:
	case Custom:
		for _, pair := range p.Pairs {
			if pair.Workload.Kind == KindDeployment {
				fmt.Fprintf(&b, " --service-account %s --deployment %s", pair.ServiceAccount, pair.Workload.Name)
			} else {
				fmt.Fprintf(&b, " --service-account %s --workload %s", pair.ServiceAccount, pair.Workload.Ref())
			}
		}
	default:
		b.WriteString(" --profile " + p.Name)
	}
	if base, ok := builtInNamespace(p.Name); !ok || base != p.Namespace {
		b.WriteString(" -n " + p.Namespace)
	}
	return b.String()
}

func builtInNamespace(name string) (string, bool) {
	for _, p := range builtIn {
		if p.Name == name && p.Namespace != "" {
			return p.Namespace, true
		}
	}
	return "", false
}
