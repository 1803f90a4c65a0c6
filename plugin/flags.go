package plugin

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

func addOutputFlag(cmd *cobra.Command, target *string, defaultValue string) {
	cmd.Flags().StringVarP(target, "output", "o", defaultValue, "Output format: "+strings.Join(output.Formats, "|"))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(output.Formats, cobra.ShellCompDirectiveNoFileComp))
}

// profileFlags selects the backup component: a built-in profile or explicit pairs.
type profileFlags struct {
	Name            string
	ServiceAccounts []string
	// Workloads holds --deployment NAME and --workload KIND/NAME in command-line order, so that
	// they pair with --service-account in order whichever flag named them.
	Workloads []string
}

// workloadFlag appends to the shared workload list; prefix turns a --deployment name into deployment/NAME.
type workloadFlag struct {
	target *[]string
	prefix string
}

func (w workloadFlag) String() string { return strings.Join(*w.target, ",") }
func (w workloadFlag) Type() string   { return "string" }
func (w workloadFlag) Set(v string) error {
	if _, err := profile.ParseWorkload(w.prefix + v); err != nil {
		return err
	}
	*w.target = append(*w.target, w.prefix+v)
	return nil
}

func (f *profileFlags) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.Name, "profile", "", fmt.Sprintf("Backup product: %s (default %s)", strings.Join(profile.Names(), ", "), profile.Default))
	cmd.Flags().StringArrayVar(&f.ServiceAccounts, "service-account", nil, "Service account of a custom pair (repeat, with --deployment or --workload, in order)")
	cmd.Flags().Var(workloadFlag{target: &f.Workloads, prefix: "deployment/"}, "deployment", "Deployment of a custom pair (repeat, with --service-account)")
	cmd.Flags().Var(workloadFlag{target: &f.Workloads}, "workload", "Workload of a custom pair as KIND/NAME: deployment/NAME, daemonset/NAME or statefulset/NAME (repeat, with --service-account)")
	_ = cmd.RegisterFlagCompletionFunc("profile", cobra.FixedCompletions(profile.Names(), cobra.ShellCompDirectiveNoFileComp))
}

// Resolve turns the flags and -n into a profile.
func (f *profileFlags) Resolve(factory kube.Factory) (profile.Profile, error) {
	explicitNS, contextNS, err := factory.Namespaces()
	if err != nil {
		return profile.Profile{}, err
	}
	return f.resolve(explicitNS, contextNS)
}

// ResolveWithoutCluster is Resolve for commands that may run without a kubeconfig (triage --file):
// -n still applies when it can be read, else the profile's own namespace.
func (f *profileFlags) ResolveWithoutCluster(factory kube.Factory) (profile.Profile, error) {
	explicitNS, contextNS, err := factory.Namespaces()
	if err != nil {
		explicitNS, contextNS = "", ""
	}
	return f.resolve(explicitNS, contextNS)
}

func (f *profileFlags) resolve(explicitNS, contextNS string) (profile.Profile, error) {
	p, err := profile.Resolve(profile.Selection{
		Profile: f.Name, ServiceAccounts: f.ServiceAccounts, Workloads: f.Workloads,
		Namespace: explicitNS, DefaultNamespace: contextNS,
	})
	if err != nil {
		return profile.Profile{}, err
	}
	return p, checkProfileNames(p)
}

// dryRunMode is kubectl's --dry-run.
type dryRunMode string

const (
	dryRunNone   dryRunMode = "none"
	dryRunClient dryRunMode = "client"
	dryRunServer dryRunMode = "server"
)

func addDryRunFlag(cmd *cobra.Command, target *string) {
	cmd.Flags().StringVar(target, "dry-run", "none", `Must be "none", "client", or "server". client: only print the plan; server: also send every change with dryRun=All so the API server validates it without persisting`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = "client"
	_ = cmd.RegisterFlagCompletionFunc("dry-run", cobra.FixedCompletions([]string{"none", "client", "server"}, cobra.ShellCompDirectiveNoFileComp))
}

func parseDryRun(s string) (dryRunMode, error) {
	switch dryRunMode(s) {
	case dryRunNone, dryRunClient, dryRunServer:
		return dryRunMode(s), nil
	case "":
		return dryRunNone, nil
	}
	return "", fmt.Errorf(`invalid --dry-run %q: must be "none", "client", or "server"`, s)
}

// waitFlags are the rollout-waiting flags shared by configure and restart.
type waitFlags struct {
	Wait    bool
	Timeout time.Duration
}

// AddFlags adds --wait and --timeout; timeoutUsage says what --timeout bounds in this command.
func (f *waitFlags) AddFlags(cmd *cobra.Command, timeoutUsage string) {
	cmd.Flags().BoolVar(&f.Wait, "wait", true, "Wait for the rollouts to finish")
	addTimeoutFlag(cmd, &f.Timeout, 5*time.Minute, timeoutUsage)
}

func (f *waitFlags) Validate() error { return validateTimeout(f.Timeout) }

// confirm asks on a terminal; elsewhere it refuses unless the caller passed --yes.
func confirm(in io.Reader, out io.Writer, question string) (bool, error) {
	if !output.IsTerminal(in) {
		return false, fmt.Errorf("refusing to change the cluster without confirmation: standard input is not a terminal; pass --yes to apply, or --dry-run to only print the plan")
	}
	fmt.Fprintf(out, "%s [y/N]: ", question)
	answer, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && answer == "" {
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes", nil
}
