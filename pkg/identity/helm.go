package identity

import (
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/helmvalues"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// HelmSettings are the chart values that carry the wiring: the client ID (and tenant ID)
// annotations of the service account, and the pod label the webhook acts on, on every workload's pods.
func HelmSettings(h *profile.HelmValues, clientID, tenantID string) []helmvalues.Setting {
	settings := []helmvalues.Setting{{Map: h.ServiceAccountAnnotations, Key: AnnotationClientID, Value: clientID}}
	if tenantID != "" {
		settings = append(settings, helmvalues.Setting{Map: h.ServiceAccountAnnotations, Key: AnnotationTenantID, Value: tenantID})
	}
	for _, labels := range h.PodLabels {
		settings = append(settings, helmvalues.Setting{Map: labels, Key: LabelUse, Value: "true"})
	}
	return settings
}

// HelmRelease is where a profile's values go: the names given in override, else the profile's
// defaults (its release and chart, and the profile's namespace when the chart names none).
func HelmRelease(p profile.Profile, override helmvalues.Release) helmvalues.Release {
	rel := helmvalues.Release{Name: p.HelmRelease, Chart: p.Helm.Chart, Namespace: p.Helm.ReleaseNamespace}
	if rel.Namespace == "" {
		rel.Namespace = p.Namespace
	}
	if override.Name != "" {
		rel.Name = override.Name
	}
	if override.Chart != "" {
		rel.Chart = override.Chart
	}
	if override.Namespace != "" {
		rel.Namespace = override.Namespace
	}
	return rel
}

// HelmUpgrade renders the profile's wiring as chart values and the helm upgrade line that applies
// them; nil when the profile's chart cannot carry the wiring.
func HelmUpgrade(p profile.Profile, override helmvalues.Release, clientID, tenantID string) (*helmvalues.Upgrade, error) {
	if p.Helm == nil {
		return nil, nil
	}
	return helmvalues.Render(HelmRelease(p, override), HelmSettings(p.Helm, clientID, tenantID))
}

// HelmSetFlags is the fix that keeps the wiring across upgrades: the helm upgrade line with the
// profile's release and chart, or a note when the product's chart cannot carry the wiring.
func HelmSetFlags(p profile.Profile, clientID string) []string {
	up, err := HelmUpgrade(p, helmvalues.Release{}, clientID, "")
	if up == nil || err != nil {
		return []string{"re-run `kubectl aksbackup identity status" + p.SelectorFlags() + "` after every extension upgrade; it shows any drift"}
	}
	return []string{up.Command}
}
