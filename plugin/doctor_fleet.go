package plugin

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/doctor"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
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
	if o.format.Structured() {
		if err := output.Write(o.Out, o.format, fleet); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(o.Out, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "CONTEXT\tVERDICT\tROOT CAUSE\tDETAIL")
		for _, r := range reports {
			root, detail := "-", r.Summary
			if len(r.RootCauses) > 0 {
				root, detail = r.RootCauses[0].ID, r.RootCauses[0].Message
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", output.Line(r.Context), r.Verdict, root, output.Line(detail))
		}
		if err := tw.Flush(); err != nil {
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
