package plugin

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

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

// addDryRunFlag adds kubectl's --dry-run (cmdutil.AddDryRunFlag: default none, a bare --dry-run
// meaning client), bound to target, with the help text of this tool's plans.
func addDryRunFlag(cmd *cobra.Command, target *string) {
	cmdutil.AddDryRunFlag(cmd)
	f := cmd.Flags().Lookup("dry-run")
	f.Usage = `Must be "none", "client", or "server". client: only print the plan; server: also send every change with dryRun=All so the API server validates it without persisting`
	*target = f.DefValue
	f.Value = (*boundString)(target)
	_ = cmd.RegisterFlagCompletionFunc("dry-run", cobra.FixedCompletions([]string{"none", "client", "server"}, cobra.ShellCompDirectiveNoFileComp))
}

// boundString is a string flag value stored in a caller's field.
type boundString string

func (b *boundString) String() string     { return string(*b) }
func (b *boundString) Set(v string) error { *b = boundString(v); return nil }
func (b *boundString) Type() string       { return "string" }

// parseDryRun reads a --dry-run value with kubectl's parser (cmdutil.GetDryRunStrategy): none,
// client or server; true and false as kubectl reads them (deprecated, with its warning). A bare
// --dry-run is client, without kubectl's deprecation warning: this tool documents that form.
func parseDryRun(s string) (dryRunMode, error) {
	parse := &cobra.Command{}
	cmdutil.AddDryRunFlag(parse)
	switch s {
	case "":
		return dryRunNone, nil
	case parse.Flags().Lookup("dry-run").NoOptDefVal:
		return dryRunClient, nil
	}
	_ = parse.Flags().Set("dry-run", s)
	strategy, err := cmdutil.GetDryRunStrategy(parse)
	if err != nil {
		return "", fmt.Errorf(`invalid --dry-run %q: must be "none", "client", or "server"`, s)
	}
	switch strategy {
	case cmdutil.DryRunClient:
		return dryRunClient, nil
	case cmdutil.DryRunServer:
		return dryRunServer, nil
	}
	return dryRunNone, nil
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
