package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe/probekube"
)

// ProbeCleanupOptions removes what crashed probes left: probe blobs and verifier pods.
type ProbeCleanupOptions struct {
	ProbeOptions
	OlderThan time.Duration
	DryRun    bool
}

// CleanupReport is `probe cleanup -o json`.
type CleanupReport struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Namespace  string           `json:"namespace"`
	OlderThan  string           `json:"olderThan"`
	DryRun     bool             `json:"dryRun"`
	Leftovers  []probe.Leftover `json:"leftovers"`
}

// NewProbeCleanupCommand builds `kubectl aksbackup probe cleanup`.
func NewProbeCleanupCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &ProbeCleanupOptions{ProbeOptions: ProbeOptions{IOStreams: streams, Factory: factory, now: time.Now, Mode: modeLocal}}
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Delete probe blobs and verifier pods that a crashed probe left behind",
		Long: `Lists the blobs named <prefix>aksbackup-probe-<run-id> under each BackupStorageLocation's prefix and
the pods labelled app.kubernetes.io/name=aksbackup-verifier in the namespace, and deletes those older
than --older-than. It never touches any other blob: a name must be exactly a probe blob's, run ID
included. Blobs are deleted as the component's identity (a requested service-account token, as in
--mode local).

Exit codes: 0 done, 1 something could not be deleted, 2 bad input or missing RBAC, 3 API errors.`,
		Example: `  # What would be deleted
  kubectl aksbackup probe cleanup --dry-run

  # Delete leftovers older than a day
  kubectl aksbackup probe cleanup --older-than 24h`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.Profile.AddFlags(cmd)
	o.Target.AddFlags(cmd)
	o.Print = output.NewPrintFlags().WithoutWide("the leftovers table has no extra columns").
		WithoutName("leftovers are blobs as well as pods")
	o.Print.AddFlags(cmd)
	cmd.Flags().DurationVar(&o.OlderThan, "older-than", time.Hour, "Delete only leftovers older than this")
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "Only list what would be deleted")
	addTimeoutFlag(cmd, &o.Timeout, 3*time.Minute, "Bounds the whole cleanup")
	return cmd
}

func (o *ProbeCleanupOptions) Validate() error {
	if o.OlderThan < 0 {
		return fmt.Errorf("--older-than must not be negative, got %s", o.OlderThan)
	}
	return o.ProbeOptions.Validate()
}

func (o *ProbeCleanupOptions) Run(ctx context.Context) error {
	cutoff := o.now().Add(-o.OlderThan)
	rep := CleanupReport{APIVersion: identity.APIVersion, Kind: "ProbeCleanup", Namespace: o.component.Namespace, OlderThan: o.OlderThan.String(), DryRun: o.DryRun, Leftovers: []probe.Leftover{}}
	pods, err := probekube.CleanupPods(ctx, o.client, o.component.Namespace, cutoff, o.DryRun)
	if err != nil {
		return kube.Explain(err, o.Factory.Host())
	}
	rep.Leftovers = append(rep.Leftovers, pods...)
	targets, err := resolveTargets(ctx, o.dynamic, o.component.Namespace, &o.Target, o.cloud.StorageSuffix, o.now())
	if err != nil {
		return err
	}
	allowed, err := probekube.CanI(ctx, o.client, o.component.Namespace, "create", "serviceaccounts", "token", o.component.ServiceAccount)
	if err != nil {
		return accessError(err, o.Factory.Host())
	}
	if !allowed {
		return exitcode.Invalidf("you may not create serviceaccounts/token for %s/%s, which deleting probe blobs as the component needs; verifier pods were handled", o.component.Namespace, o.component.ServiceAccount)
	}
	wiring := probekube.ReadWiring(ctx, o.client, o.component, o.Target.identityOverrides(), o.now)
	if wiring.Blocking {
		return fmt.Errorf("cannot act as the component: %s", wiring.Step.Detail)
	}
	token, step := probekube.RequestToken(ctx, o.client, o.component.Namespace, o.component.ServiceAccount, o.now)
	if step.Status == probe.StatusFailed {
		return fmt.Errorf("requesting a token for %s/%s: %s", o.component.Namespace, o.component.ServiceAccount, step.Detail)
	}
	var errs []error
	for _, t := range targets {
		cfg := o.config(t, "", modeLocal)
		cfg.Identity = probe.Identity{ClientID: wiring.ClientID, TenantID: wiring.TenantID, AuthorityHost: o.cloud.ActiveDirectoryAuthorityHost,
			DisableInstanceDiscovery: o.cloud.Custom, Assertion: func(context.Context) (string, error) { return token, nil }}
		client, err := probe.NewBlobClient(cfg)
		if err == nil {
			var blobs []probe.Leftover
			blobs, err = probe.CleanupBlobs(ctx, client, t, cutoff, o.DryRun)
			rep.Leftovers = append(rep.Leftovers, blobs...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s", describe(t), probe.StepMessage(probe.Step{Name: "list", Status: probe.StatusFailed, Detail: err.Error()})))
		}
	}
	if err := o.print(rep); err != nil {
		return err
	}
	for _, l := range rep.Leftovers {
		if l.Error != "" {
			errs = append(errs, fmt.Errorf("deleting %s %s: %s", l.Kind, l.Name, l.Error))
		}
	}
	if len(errs) > 0 {
		return &exitcode.Error{Code: exitcode.Findings, Err: errors.Join(errs...)}
	}
	return nil
}

func (o *ProbeCleanupOptions) print(rep CleanupReport) error {
	if o.printer.Structured() {
		return o.printer.PrintDocument(o.Out, rep)
	}
	if len(rep.Leftovers) == 0 {
		_, err := fmt.Fprintf(o.Out, "No probe blobs or verifier pods older than %s.\n", rep.OlderThan)
		return err
	}
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Kind", Type: "string"}, {Name: "Name", Type: "string"}, {Name: "Where", Type: "string"}, {Name: "Age", Type: "string"}, {Name: "Result", Type: "string"}}}
	for _, l := range rep.Leftovers {
		result := "deleted"
		switch {
		case l.Error != "":
			result = "error: " + l.Error
		case rep.DryRun:
			result = "would delete"
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{l.Kind, l.Name, l.Where, duration.HumanDuration(o.now().Sub(l.Created)), result}})
	}
	return output.PrintTable(o.Out, t, false)
}
