// Package profile defines what "the backup component" is for each supported product: which
// service accounts and deployments carry the workload identity, and how they are normally configured.
// Profiles are data in one table; no product gets its own code path.
package profile

import (
	"fmt"
	"sort"
	"strings"
)

// Pair is one service account and the deployment whose pods run as it.
type Pair struct {
	ServiceAccount string `json:"serviceAccount"`
	Deployment     string `json:"deployment"`
	// StorageContainer is the container that talks to Blob Storage ("" when any container may).
	StorageContainer string `json:"storageContainer,omitempty"`
}

// HelmValues names the chart values that hold the wiring, so the tool can print `--set` flags that
// survive a `helm upgrade`.
type HelmValues struct {
	ServiceAccountAnnotations string
	PodLabels                 string
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
			{ServiceAccount: "dataprotection-microsoft-controller-sa", Deployment: "dataprotection-microsoft-controller"},
			{ServiceAccount: "dataprotection-microsoft-kubernetes-agent-server", Deployment: "dataprotection-microsoft-kubernetes-agent", StorageContainer: "velero"},
			{ServiceAccount: "dataprotection-microsoft-geneva-sa", Deployment: "dataprotection-microsoft-geneva-service"},
		},
		HelmRelease:   "azure-aks-backup",
		Owner:         "the AKS Backup extension's Helm release azure-aks-backup; an extension upgrade or auto-upgrade can revert live patches",
		ExtensionType: "microsoft.dataprotection.kubernetes",
	},
	{
		Name:        "velero",
		Description: "Velero with velero-plugin-for-microsoft-azure",
		Namespace:   "velero",
		Pairs:       []Pair{{ServiceAccount: "velero", Deployment: "velero", StorageContainer: "velero"}},
		HelmRelease: "velero",
		Helm:        &HelmValues{ServiceAccountAnnotations: "serviceAccount.server.annotations", PodLabels: "podLabels"},
		Owner:       "the velero Helm release; a helm upgrade reverts live patches",
	},
	{
		Name:        "upbound-spaces",
		Description: "Upbound Spaces control-plane backups (mxp-controller)",
		Pairs:       []Pair{{ServiceAccount: "mxp-controller", Deployment: "mxp-controller"}},
		Helm: &HelmValues{
			ServiceAccountAnnotations: "controlPlanes.mxpController.serviceAccount.annotations",
			PodLabels:                 "controlPlanes.mxpController.pod.customLabels",
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
	Deployments     []string
	// Namespace is the -n value, or "" when -n was not given.
	Namespace string
	// DefaultNamespace is the kubeconfig context's namespace, used when neither -n nor the profile names one.
	DefaultNamespace string
}

// Resolve turns a selection into a concrete profile with its namespace set.
func Resolve(sel Selection) (Profile, error) {
	if len(sel.ServiceAccounts) != len(sel.Deployments) {
		return Profile{}, fmt.Errorf("--service-account and --deployment come in pairs: got %d service accounts and %d deployments", len(sel.ServiceAccounts), len(sel.Deployments))
	}
	var p Profile
	if len(sel.ServiceAccounts) > 0 {
		if sel.Profile != "" && sel.Profile != Custom {
			return Profile{}, fmt.Errorf("--profile %s cannot be combined with --service-account/--deployment pairs: drop one of them", sel.Profile)
		}
		p = Profile{Name: Custom, Description: "service account / deployment pairs given on the command line"}
		seen := map[string]bool{}
		for i := range sel.ServiceAccounts {
			pair := Pair{ServiceAccount: strings.TrimSpace(sel.ServiceAccounts[i]), Deployment: strings.TrimSpace(sel.Deployments[i])}
			if pair.ServiceAccount == "" || pair.Deployment == "" {
				return Profile{}, fmt.Errorf("pair %d has an empty --service-account or --deployment", i+1)
			}
			if seen[pair.Deployment] {
				return Profile{}, fmt.Errorf("deployment %q is named twice", pair.Deployment)
			}
			seen[pair.Deployment] = true
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
			fmt.Fprintf(&b, " --service-account %s --deployment %s", pair.ServiceAccount, pair.Deployment)
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
