package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/doctor"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/fleet"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
)

// contextFactories builds a factory per kubeconfig context from the root's connection flags; nil in
// tests that do not set it. The root command sets it.
var contextFactories func(contextName string) kube.Factory

// kubeconfigContexts lists the kubeconfig's contexts, for --all-contexts.
var kubeconfigContexts func() ([]string, error)

// withContextFactories wires fleet mode to the root's flags: each context gets its own factory with
// the same kubeconfig, namespace and impersonation, and only the context changed.
func withContextFactories(flags *genericclioptions.ConfigFlags) {
	contextFactories = func(name string) kube.Factory {
		f := genericclioptions.NewConfigFlags(true)
		f.KubeConfig, f.Namespace, f.Timeout, f.CacheDir = flags.KubeConfig, flags.Namespace, flags.Timeout, flags.CacheDir
		f.Impersonate, f.ImpersonateUID, f.ImpersonateGroup = flags.Impersonate, flags.ImpersonateUID, flags.ImpersonateGroup
		f.Context = &name
		return kube.NewFactory(f)
	}
	kubeconfigContexts = func() ([]string, error) {
		raw, err := flags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, fmt.Errorf("reading the kubeconfig's contexts: %w", err)
		}
		names := make([]string, 0, len(raw.Contexts))
		for name := range raw.Contexts {
			names = append(names, name)
		}
		sort.Strings(names)
		return names, nil
	}
	kubeconfigAKSContexts = func() ([]fleet.Context, error) {
		raw, err := flags.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, fmt.Errorf("reading the kubeconfig's contexts: %w", err)
		}
		out := make([]fleet.Context, 0, len(raw.Contexts))
		for _, name := range slices.Sorted(maps.Keys(raw.Contexts)) {
			rg, cluster, _ := kube.AKSClusterFromKubeconfig(raw, name)
			out = append(out, fleet.Context{Name: name, ResourceGroup: rg, Cluster: cluster})
		}
		return out, nil
	}
}

// FleetReport is `doctor --contexts ... -o json`: one doctor report per cluster.
type FleetReport struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Clusters   []*doctor.Report `json:"clusters"`
	Healthy    int              `json:"healthy"`
	Unhealthy  int              `json:"unhealthy"`
	Failed     int              `json:"couldNotRun"`
}

// fleetContexts resolves --contexts and --all-contexts.
func (o *DoctorOptions) fleetContexts() ([]string, error) {
	if !o.AllContexts {
		return o.Contexts, nil
	}
	if kubeconfigContexts == nil {
		return nil, fmt.Errorf("--all-contexts needs the kubeconfig")
	}
	return kubeconfigContexts()
}

// runFleet runs one doctor per context, at most Parallel at a time, and prints one row per cluster.
func (o *DoctorOptions) runFleet(ctx context.Context, contexts []string) error {
	reports := make([]*doctor.Report, len(contexts))
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	for i, name := range contexts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			reports[i] = o.forContext(name).diagnoseOrFail(ctx)
			reports[i].Context = name
		}()
	}
	wg.Wait()
	fleet := &FleetReport{APIVersion: doctor.APIVersion, Kind: "DoctorFleetReport", Clusters: reports}
	for _, r := range reports {
		switch r.Verdict {
		case doctor.Healthy:
			fleet.Healthy++
		case doctor.CouldNotRun:
			fleet.Failed++
		default:
			fleet.Unhealthy++
		}
	}
	if o.printer.Structured() {
		if err := o.printer.PrintDocument(o.Out, fleet); err != nil {
			return err
		}
	} else {
		t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
			{Name: "Context", Type: "string"}, {Name: "Verdict", Type: "string"}, {Name: "Root Cause", Type: "string"}, {Name: "Detail", Type: "string"}}}
		for _, r := range reports {
			root, detail := "-", r.Summary
			if len(r.RootCauses) > 0 {
				root, detail = r.RootCauses[0].ID, r.RootCauses[0].Message
			}
			t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{r.Context, string(r.Verdict), root, detail}})
		}
		if err := output.PrintTable(o.Out, t, false); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "\n%d cluster(s): %d healthy, %d unhealthy, %d could not run.\n", len(reports), fleet.Healthy, fleet.Unhealthy, fleet.Failed)
	}
	if fleet.Healthy == len(reports) {
		return nil
	}
	return exitcode.ErrFindings
}

// forContext is a copy of the options bound to another context's cluster.
func (o *DoctorOptions) forContext(name string) *DoctorOptions {
	c := *o
	c.Factory = contextFactories(name)
	return &c
}

// diagnoseOrFail turns a cluster whose clients cannot even be built into a could-not-run report, so
// one bad context does not stop the fleet.
func (o *DoctorOptions) diagnoseOrFail(ctx context.Context) *doctor.Report {
	fail := func(err error) *doctor.Report {
		return &doctor.Report{APIVersion: doctor.APIVersion, Kind: "DoctorReport", Verdict: doctor.CouldNotRun,
			Summary: strings.TrimSpace(err.Error()), Profile: o.profile.Name, Namespace: o.profile.Namespace}
	}
	var err error
	if o.profile, err = o.Profile.Resolve(o.Factory); err != nil {
		return fail(err)
	}
	if o.client, err = o.Factory.Clientset(); err != nil {
		return fail(err)
	}
	if o.dynamic, err = o.Factory.Dynamic(); err != nil {
		return fail(err)
	}
	rep, err := o.diagnose(ctx)
	if err != nil {
		return fail(err)
	}
	return rep
}

// fleetGraph is `doctor --fleet --subscription S...`: the ARM half of every AKS cluster of the
// subscriptions from one paged Azure Resource Graph query, joined with the in-cluster doctor of each
// cluster's kubeconfig context.
type fleetGraph struct {
	o             *DoctorOptions
	enabled       bool
	subscriptions []string
}

// newResourceGraph builds the Resource Graph client from the Azure flags; tests replace it.
var newResourceGraph = func(f *azureFlags) (fleetQuerier, error) {
	opts, err := f.clientOptions()
	if err != nil {
		return nil, err
	}
	return azure.NewResourceGraph(opts)
}

type fleetQuerier interface {
	Fleet(ctx context.Context, subscriptions []string) (*azure.FleetResult, error)
}

// kubeconfigAKSContexts lists the kubeconfig's contexts with the AKS cluster each one's user names.
var kubeconfigAKSContexts func() ([]fleet.Context, error)

// addFleetGraphFlags adds --fleet and makes --subscription repeatable (with --fleet every value
// counts; otherwise the last one, as before). A --fleet run takes over the command's RunE.
func (o *DoctorOptions) addFleetGraphFlags(cmd *cobra.Command) {
	g := &fleetGraph{o: o}
	cmd.Flags().BoolVar(&g.enabled, "fleet", false, "Check every AKS cluster of the --subscription(s) with one Azure Resource Graph query, joined with the in-cluster checks of each cluster's kubeconfig context (named as az aks get-credentials names it)")
	if sub := cmd.Flags().Lookup("subscription"); sub != nil {
		sub.Value = &repeatedSubscription{Value: sub.Value, all: &g.subscriptions}
		sub.Usage += "; with --fleet, repeat it (or separate with commas) for several"
	}
	single := cmd.RunE
	fleetRun := runE(g)
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if !g.enabled {
			return single(c, args)
		}
		return fleetRun(c, args)
	}
}

// repeatedSubscription keeps every --subscription value for --fleet while the single-cluster flag
// keeps its last one.
type repeatedSubscription struct {
	pflag.Value
	all *[]string
}

func (r *repeatedSubscription) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*r.all = append(*r.all, s)
		}
	}
	return r.Value.Set(v)
}

func (g *fleetGraph) Complete(*cobra.Command, []string) error {
	if len(g.subscriptions) == 0 {
		if env := os.Getenv("AZURE_SUBSCRIPTION_ID"); env != "" {
			g.subscriptions = []string{env}
		}
	}
	return nil
}

func (g *fleetGraph) Validate() error {
	o := g.o
	errs := []error{o.Validate()}
	if err := o.fleetOutputSupported("--fleet"); err != nil {
		errs = append(errs, err)
	}
	if o.Fix {
		errs = append(errs, errors.New("--fix works on one cluster at a time: drop --fleet, or pick the context with --context"))
	}
	if o.Azure.ClusterID != "" || o.Azure.ClusterName != "" || o.Azure.ResourceGroup != "" {
		errs = append(errs, errors.New("--cluster-id, --resource-group and --cluster-name name one cluster: --fleet checks every cluster of the --subscription(s)"))
	}
	if o.Azure.NoAzure {
		errs = append(errs, errors.New("--fleet asks Azure Resource Graph: drop --no-azure, or use --contexts for the in-cluster checks alone"))
	}
	if o.VaultID != "" || o.Probe {
		errs = append(errs, errors.New("--vault-id and --probe check one cluster: with --fleet, any backup vault's Trusted Access binding counts"))
	}
	if o.Parallel < 1 {
		errs = append(errs, fmt.Errorf("--parallel must be at least 1, got %d", o.Parallel))
	}
	if err := azure.ValidateSubscriptions(g.subscriptions); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (g *fleetGraph) limit() time.Duration { return g.o.Timeout }

func (g *fleetGraph) Run(ctx context.Context) error {
	o := g.o
	querier, err := newResourceGraph(&o.Azure)
	if err != nil {
		return &exitcode.Error{Code: exitcode.InvalidInput, Err: err}
	}
	res, err := querier.Fleet(ctx, g.subscriptions)
	if err != nil {
		return &exitcode.Error{Code: exitcode.InvalidInput, Err: fmt.Errorf("doctor --fleet could not run: %w", err)}
	}
	contexts, err := g.joinableContexts()
	if err != nil {
		return &exitcode.Error{Code: exitcode.InvalidInput, Err: err}
	}
	joined := fleet.MatchContexts(res.Clusters, contexts)
	// The in-cluster doctors forward doctor's set flags to the commands they run; --no-azure among
	// them keeps each one from reading ARM for its cluster: the query's row is its Azure half.
	if o.cmd.Flags().Lookup("no-azure") != nil {
		if err := o.cmd.Flags().Set("no-azure", "true"); err != nil {
			return err
		}
	}
	rows := make([]*fleet.Row, len(res.Clusters))
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	for i, c := range res.Clusters {
		name := joined[strings.ToLower(c.ID)]
		if name == "" || contextFactories == nil {
			rows[i] = fleet.NewRow(c, "", nil)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// The Azure half of this cluster is the query's row; the in-cluster doctor sends no ARM request.
			in := o.forContext(name)
			in.Azure.NoAzure, in.VaultID = true, ""
			rep := in.diagnoseOrFail(ctx)
			rep.Context = name
			rows[i] = fleet.NewRow(c, name, rep)
		}()
	}
	wg.Wait()
	report := fleet.NewReport(g.subscriptions, rows, res.Pages)
	if o.printer.Structured() {
		if err := o.printer.PrintDocument(o.Out, report); err != nil {
			return err
		}
	} else if err := writeFleetGraphTable(o.Out, report); err != nil {
		return err
	}
	if o.Verbose {
		fmt.Fprintf(o.ErrOut, "doctor --fleet: %d cluster(s) from %d Azure Resource Graph request(s) (one per page)\n", len(rows), res.Pages)
	}
	if report.Healthy == len(rows) {
		return nil
	}
	return exitcode.ErrFindings
}

// joinableContexts are --contexts when given, else every kubeconfig context.
func (g *fleetGraph) joinableContexts() ([]fleet.Context, error) {
	if kubeconfigAKSContexts == nil {
		return nil, nil
	}
	all, err := kubeconfigAKSContexts()
	if err != nil || len(g.o.Contexts) == 0 {
		return all, err
	}
	want := map[string]bool{}
	for _, c := range g.o.Contexts {
		want[c] = true
	}
	var out []fleet.Context
	for _, c := range all {
		if want[c.Name] {
			out = append(out, c)
			delete(want, c.Name)
		}
	}
	if len(want) > 0 {
		return nil, fmt.Errorf("--contexts names contexts the kubeconfig lacks: %s; kubectl config get-contexts lists them", strings.Join(slices.Sorted(maps.Keys(want)), ", "))
	}
	return out, nil
}

func writeFleetGraphTable(w io.Writer, r *fleet.Report) error {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Cluster", Type: "string"}, {Name: "Resource Group", Type: "string"}, {Name: "OIDC", Type: "string"},
		{Name: "Workload ID", Type: "string"}, {Name: "Extension", Type: "string"}, {Name: "Trusted Access", Type: "integer"},
		{Name: "Context", Type: "string"}, {Name: "In-Cluster", Type: "string"}, {Name: "Verdict", Type: "string"}, {Name: "Root Cause", Type: "string"}}}
	for _, row := range r.Clusters {
		ext := "missing"
		if len(row.Azure.BackupExtensions) > 0 {
			ext = row.Azure.BackupExtensions[0].ProvisioningState
		}
		context := row.Context
		if context == "" {
			context = "-"
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{row.Cluster, row.ResourceGroup, onOff(row.Azure.OIDCIssuerEnabled),
			onOff(row.Azure.WorkloadIdentityEnabled), ext, int64(len(row.Azure.TrustedAccessBindings)), context,
			fmt.Sprint(row.InClusterVerdict()), fmt.Sprint(row.Verdict), fmt.Sprint(row.RootCause())}})
	}
	if err := output.PrintTable(w, t, false); err != nil {
		return err
	}
	for _, row := range r.Clusters {
		if row.Verdict != doctor.Healthy {
			fmt.Fprintf(w, "\n%s: %s %s\n", output.Line(row.Cluster), row.Verdict, output.Line(row.Summary))
			if len(row.Findings) > 0 && len(row.Findings[0].Remediation) > 0 {
				fmt.Fprintf(w, "  fix: %s\n", output.Line(row.Findings[0].Remediation[0]))
			}
		}
	}
	fmt.Fprintf(w, "\n%d cluster(s) in %d subscription(s): %d healthy, %d unhealthy, %d could not run (%d Azure Resource Graph request(s)).\n",
		len(r.Clusters), len(r.Subscriptions), r.Healthy, r.Unhealthy, r.Failed, r.Queries)
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// fleetOutputSupported: a fleet prints its summary table or one document (json, yaml, jsonpath,
// go-template); it has no wide columns and names no Kubernetes objects.
func (o *DoctorOptions) fleetOutputSupported(mode string) error {
	if o.printer == nil || o.printer.Format() == output.Table || (o.printer.Structured() && o.printer.Format() != "name") {
		return nil
	}
	return fmt.Errorf("with %s, -o takes json, yaml, jsonpath or go-template (got %q): the fleet table has no extra columns and a fleet is not a Kubernetes object", mode, o.Print.Output)
}
