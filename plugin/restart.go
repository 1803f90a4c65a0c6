package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/rollout"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/workload"
)

// RestartOptions restarts the profile's workloads (deployments, daemonsets, statefulsets), as
// `kubectl rollout restart` plus `rollout status`.
type RestartOptions struct {
	genericiooptions.IOStreams
	Factory   kube.Factory
	Profile   profileFlags
	DryRun    string
	WaitFlags waitFlags

	dryRun  dryRunMode
	profile profile.Profile
	client  kubernetes.Interface
	now     func() time.Time
}

// NewRestartCommand builds `kubectl aksbackup restart`.
func NewRestartCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &RestartOptions{IOStreams: streams, Factory: factory, now: time.Now}
	cmd := &cobra.Command{
		Use:   "restart",
		Short: "Restart the backup component's workloads and wait for the rollouts",
		Long: `Restarts every workload of the profile (deployments, and daemonsets such as Velero's node-agent), so
new pods pick up the workload identity, and waits like kubectl rollout status (progress on a terminal;
--timeout bounds the whole command).`,
		Example: `  kubectl aksbackup restart
  kubectl aksbackup restart --profile velero --timeout 10m
  kubectl aksbackup restart --dry-run=server`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.Profile.AddFlags(cmd)
	addDryRunFlag(cmd, &o.DryRun)
	o.WaitFlags.AddFlags(cmd, "Bounds the whole command: the checks, the restarts and the wait for the rollouts")
	return cmd
}

func (o *RestartOptions) Complete(*cobra.Command, []string) error {
	var err error
	if o.profile, err = o.Profile.Resolve(o.Factory); err != nil {
		return err
	}
	o.client, err = o.Factory.Clientset()
	return err
}

func (o *RestartOptions) Validate() error {
	var err error
	if o.dryRun, err = parseDryRun(o.DryRun); err != nil {
		return err
	}
	return o.WaitFlags.Validate()
}

func (o *RestartOptions) limit() time.Duration { return o.WaitFlags.Timeout }

func (o *RestartOptions) Run(ctx context.Context) error {
	if err := o.Factory.CheckAPIServer(ctx); err != nil {
		return err
	}
	host := o.Factory.Host()
	ns := o.profile.Namespace
	var missing []error
	var found []profile.Workload
	var access []kube.Access
	kinds := map[string]bool{}
	for _, pair := range o.profile.Pairs {
		_, err := workload.Get(ctx, o.client, ns, pair.Workload)
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, fmt.Errorf("%s %s not found in namespace %s", pair.Workload.Resource(), pair.Workload.Name, ns))
		case err != nil:
			return kube.Explain(err, host)
		default:
			found = append(found, pair.Workload)
			if !kinds[pair.Workload.Kind] {
				kinds[pair.Workload.Kind] = true
				access = append(access, kube.Access{Verb: "patch", Group: "apps", Resource: workload.Resource(pair.Workload.Kind), Namespace: ns})
			}
		}
	}
	if len(missing) > 0 {
		return exitcode.Invalid(fmt.Errorf("nothing was restarted: %w; check -n and --profile", errors.Join(missing...)))
	}
	if err := kube.CheckAccess(ctx, o.client, access); err != nil {
		return accessError(err, host)
	}
	refs := make([]string, len(found))
	for i, w := range found {
		refs[i] = w.Ref()
	}
	suffix := map[dryRunMode]string{dryRunClient: " (dry run)", dryRunServer: " (server dry run)"}[o.dryRun]
	now := o.now()
	for i, w := range found {
		if o.dryRun != dryRunClient {
			if err := rollout.Restart(ctx, o.client, ns, w, now, o.dryRun == dryRunServer); err != nil {
				return fmt.Errorf("%w (restarted before the failure: %v; not restarted: %v)", kube.Explain(err, host), refs[:i], refs[i:])
			}
		}
		fmt.Fprintf(o.Out, "%s restarted%s\n", workload.QualifiedRef(w), suffix)
	}
	if o.dryRun != dryRunNone || !o.WaitFlags.Wait {
		return nil
	}
	opts := rollout.WaitOptions{Timeout: o.WaitFlags.Timeout, Done: o.Out, Notice: o.ErrOut}
	if output.IsTerminal(o.ErrOut) {
		opts.Progress = o.ErrOut
	}
	return rollout.Wait(ctx, o.client, ns, refs, opts)
}
