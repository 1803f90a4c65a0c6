package plugin

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azurecheck"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/helmvalues"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
)

// helmValuesFormat is configure's own -o format: the chart values file alone, for `helm upgrade -f`.
const helmValuesFormat = "helm-values"

// helmFlags name the Helm release that carries a profile's wiring.
type helmFlags struct {
	Release, Chart, Namespace string
	// LivePatch also patches the live objects of a profile configured through Helm.
	LivePatch bool
}

func (f *helmFlags) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.Release, "helm-release", "", "Helm release in the printed helm upgrade line (default: velero for velero, spaces for upbound-spaces)")
	cmd.Flags().StringVar(&f.Chart, "helm-chart", "", "Chart in the printed helm upgrade line (default: vmware-tanzu/velero, oci://xpkg.upbound.io/spaces-artifacts/spaces)")
	cmd.Flags().StringVar(&f.Namespace, "helm-namespace", "", "Namespace of the Helm release (default: the profile's namespace; upbound-system for upbound-spaces)")
	cmd.Flags().BoolVar(&f.LivePatch, "live-patch", false, "For profiles configured through Helm (upbound-spaces): also annotate, label and restart the live objects; the next helm upgrade reverts that unless the values are set")
}

func (f *helmFlags) named() bool { return f.Release != "" || f.Chart != "" || f.Namespace != "" }

// helmOnly reports whether the cluster side is left to the Helm values: the profile is configured
// through its chart and --live-patch is absent, or -o helm-values only prints the values.
func (o *IdentityConfigureOptions) helmOnly() bool {
	return o.helmValuesOnly || (o.profile.HelmFirst && !o.Helm.LivePatch)
}

// validateHelm checks the Helm flags against the profile and the other flags.
func (o *IdentityConfigureOptions) validateHelm() error {
	var errs []error
	name := o.profile.Name
	if o.profile.Helm == nil {
		if o.helmValuesOnly {
			errs = append(errs, fmt.Errorf("-o %s needs a profile whose chart carries the wiring (velero, upbound-spaces); profile %s has none", helmValuesFormat, name))
		}
		if o.Helm.named() {
			errs = append(errs, fmt.Errorf("--helm-release, --helm-chart and --helm-namespace name the chart of velero or upbound-spaces; profile %s has no chart values for the wiring: drop them", name))
		}
	}
	if o.Helm.LivePatch && !o.profile.HelmFirst {
		errs = append(errs, fmt.Errorf("--live-patch is for profiles configured through Helm (upbound-spaces); profile %s patches the live objects anyway: drop --live-patch", name))
	}
	if o.helmValuesOnly {
		if o.Helm.LivePatch {
			errs = append(errs, fmt.Errorf("-o %s only prints the values and changes nothing: drop --live-patch, or drop -o %s to patch", helmValuesFormat, helmValuesFormat))
		}
		if o.dryRun == dryRunServer {
			errs = append(errs, fmt.Errorf("-o %s sends nothing to the server, so --dry-run=server has nothing to check: drop it", helmValuesFormat))
		}
	}
	if o.WaitBSL && o.helmOnly() {
		errs = append(errs, fmt.Errorf("--wait-bsl needs the live wiring, which profile %s gets from its Helm values: apply them, then run `kubectl aksbackup bsl%s --wait-available` (or add --live-patch)", name, o.profile.SelectorFlags()))
	}
	return errors.Join(errs...)
}

// helmUpgrade renders the profile's values for the client ID configure settled on.
func (o *IdentityConfigureOptions) helmUpgrade(azurePlan *azurecheck.AzurePlan) (*helmvalues.Upgrade, error) {
	clientID := o.ClientID
	if azurePlan != nil {
		clientID = azurePlan.ClientID
	}
	override := helmvalues.Release{Name: o.Helm.Release, Chart: o.Helm.Chart, Namespace: o.Helm.Namespace}
	return identity.HelmUpgrade(o.profile, override, clientID, o.TenantID)
}

// writeHelmValuesFile prints the values file alone: stdout pipes straight into `helm upgrade -f -`.
func (o *IdentityConfigureOptions) writeHelmValuesFile(up *helmvalues.Upgrade) error {
	data, err := helmvalues.YAML(up.Values)
	if err != nil {
		return err
	}
	_, err = io.WriteString(o.Out, output.Text(string(data)))
	return err
}

// printHelmValues prints the values and the helm line: the deliverable for a profile configured
// through Helm (on Out), a footnote on ErrOut for other Helm-installed products.
func (o *IdentityConfigureOptions) printHelmValues(up *helmvalues.Upgrade) error {
	if up == nil {
		return nil
	}
	w := io.Writer(o.ErrOut)
	intro := "To keep this wiring across helm upgrades, set it in the release's values:"
	if o.profile.HelmFirst {
		w = o.Out
		intro = fmt.Sprintf("%s is configured through Helm: set these values in release %s (namespace %s):", o.profile.Description, up.Name, up.Namespace)
	}
	if o.printer.Structured() {
		w = o.ErrOut
	}
	data, err := helmvalues.YAML(up.Values)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, output.Line(intro))
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", output.Line(line))
	}
	fmt.Fprintln(w, "Apply them with (add --version with the release's chart version, or helm takes the chart's newest):")
	fmt.Fprintf(w, "  %s\n", output.Line(up.Command))
	fmt.Fprintf(w, "or save them with -o %s and pass the file to helm upgrade -f.\n", helmValuesFormat)
	if o.profile.HelmFirst && o.Helm.LivePatch {
		fmt.Fprintf(o.ErrOut, "Warning: --live-patch also patches the live objects; the next `helm upgrade` of release %s reverts them unless its values carry the wiring above.\n", output.Line(up.Name))
	}
	return nil
}

// helmOnlyDone is the closing line of a run that left the cluster objects to the Helm values.
func (o *IdentityConfigureOptions) helmOnlyDone() string {
	return fmt.Sprintf("The cluster objects in namespace %s were not changed: apply the values above with helm, then check with `kubectl aksbackup identity status%s` (--live-patch patches the live objects instead, until the next helm upgrade).",
		o.profile.Namespace, o.profile.SelectorFlags())
}

// finishHelmOnly ends an applied run whose cluster side is left to the Helm values: there is no
// rollout to wait for and no live wiring to verify yet.
func (o *IdentityConfigureOptions) finishHelmOnly(result *ConfigureResult, table bool) error {
	if !table {
		return o.printer.PrintDocument(o.Out, result)
	}
	fmt.Fprintln(o.Out, o.helmOnlyDone())
	return nil
}
