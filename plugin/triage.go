package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/triage"
)

// TriageOptions names the root cause in Velero and extension logs, read live or from files.
type TriageOptions struct {
	genericiooptions.IOStreams
	Factory   kube.Factory
	Profile   profileFlags
	Print     *output.PrintFlags
	Files     []string
	Previous  bool
	Since     time.Duration
	Container string
	// MaxPodLogs bounds the replicas whose logs are read per workload (0 = all).
	MaxPodLogs int
	Timeout    time.Duration
	Catalog    bool
	// AnchorsERE prints the catalog's anchors as one grep -E pattern (for make bench).
	AnchorsERE bool

	printer *output.Printer
	profile profile.Profile
	// namespaceChosen: -n or --profile was given, so fixes name that namespace even for saved logs
	// that name another.
	namespaceChosen bool
	client          kubernetes.Interface
	dynamic         dynamic.Interface
	// fromCluster is set when no --file is given.
	fromCluster bool
	timeoutSet  bool
}

// NewTriageCommand builds `kubectl aksbackup triage`.
func NewTriageCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &TriageOptions{IOStreams: streams, Factory: factory, Print: output.NewPrintFlags().WithWide().
		WithoutName("triage reports log findings, not Kubernetes objects")}
	cmd := &cobra.Command{
		Use:   "triage",
		Short: "Name the root cause of a failing backup setup from Velero's logs",
		Long: `Reads the velero container's logs of every replica of the profile's backup deployment (or saved
logs with --file: plain, gzip or bzip2, UTF-8 or UTF-16; - is standard input), together with the
BackupStorageLocations' messages and the pods' state, and matches them against a catalog of known
root causes: workload identity not injected, federated credential mismatches (AADSTS codes),
missing blob roles, network rules, missing containers, plugin crashes and more. Findings are ranked
root cause first, repeats grouped with a count and first/last time, secrets redacted.

Formats read: logrus text, JSON lines, klog, and free text (kubectl describe output, Azure SDK
error blocks, BackupStorageLocation messages). Exit codes: 0 nothing wrong found, 1 an error
finding, 2 bad input (also a file triage cannot read: xz, zstd, zip, binary data; or only empty
files), 3 the cluster or a file could not be read (also: no answer within --timeout; a file cut
short, such as a truncated gzip, after the report on the part that was read).`,
		Example: `  # The AKS Backup extension's Velero, live
  kubectl aksbackup triage

  # The previous container after a crash, last hour only
  kubectl aksbackup triage --previous --since 1h

  # A saved log, as JSON
  kubectl aksbackup triage --file velero.log.gz -o json

  # From a pipe
  kubectl logs -n velero deploy/velero | kubectl aksbackup triage --file -`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.Profile.AddFlags(cmd)
	o.Print.AddFlags(cmd)
	cmd.Flags().StringArrayVarP(&o.Files, "file", "f", nil, "Read this saved log instead of the cluster (repeat for several; - reads standard input; gzip, bzip2 and UTF-16 are detected)")
	cmd.Flags().BoolVarP(&o.Previous, "previous", "p", false, "Read the previous instance of the container (after a restart or crash)")
	cmd.Flags().DurationVar(&o.Since, "since", 0, "Only read logs newer than this, e.g. 30m or 2h (default: all the kubelet kept)")
	cmd.Flags().IntVar(&o.MaxPodLogs, "max-pod-logs", defaultMaxPodLogs, "Read the logs of at most this many replicas per workload, not-ready and restarted ones first (0 = all); every replica's state is read")
	cmd.Flags().StringVarP(&o.Container, "container", "c", "", "Container to read (default: the profile's storage container, velero)")
	addTimeoutFlag(cmd, &o.Timeout, defaultReadTimeout, "Bounds reading the cluster (not --file)")
	cmd.Flags().BoolVar(&o.Catalog, "catalog", false, "Print the catalog of root causes triage knows, then exit")
	cmd.Flags().BoolVar(&o.AnchorsERE, "anchors-regexp", false, "Print the catalog's anchor strings as one grep -E pattern, then exit")
	_ = cmd.Flags().MarkHidden("anchors-regexp")
	return cmd
}

func (o *TriageOptions) Complete(cmd *cobra.Command, _ []string) error {
	o.timeoutSet = cmd.Flags().Changed("timeout")
	o.namespaceChosen = cmd.Flags().Changed("namespace") || cmd.Flags().Changed("profile")
	if o.Catalog || o.AnchorsERE {
		return nil
	}
	var err error
	o.fromCluster = len(o.Files) == 0
	if !o.fromCluster {
		o.profile, err = o.Profile.ResolveWithoutCluster(o.Factory)
		return err
	}
	if o.profile, err = o.Profile.Resolve(o.Factory); err != nil {
		return err
	}
	if o.client, err = o.Factory.Clientset(); err != nil {
		return err
	}
	o.dynamic, err = o.Factory.Dynamic()
	return err
}

func (o *TriageOptions) Validate() error {
	var err error
	if o.printer, err = o.Print.ToPrinter(); err != nil {
		return err
	}
	if o.printer.Wide() && !o.Catalog {
		return fmt.Errorf("-o wide applies to --catalog only (it adds the explanation); triage's report is findings, not a table: use -o json or -o yaml for every field")
	}
	if !o.fromCluster && (o.Previous || o.Since != 0 || o.Container != "") {
		return fmt.Errorf("--previous, --since and --container select cluster logs; they cannot be combined with --file")
	}
	if !o.fromCluster && o.timeoutSet {
		return fmt.Errorf("--timeout bounds reading the cluster; it does not apply to --file")
	}
	if err := validateTimeout(o.Timeout); err != nil {
		return err
	}
	if o.Container != "" {
		if err := checkLabel("container name", o.Container, "check --container"); err != nil {
			return err
		}
	}
	if o.Since < 0 {
		return fmt.Errorf("--since must be positive, got %s", o.Since)
	}
	if o.MaxPodLogs < 0 {
		return fmt.Errorf("--max-pod-logs must be 0 (all) or more, got %d", o.MaxPodLogs)
	}
	stdin := 0
	for _, f := range o.Files {
		if f == "-" {
			stdin++
			continue
		}
		if strings.TrimSpace(f) == "" {
			return fmt.Errorf("--file needs a path (or - for standard input)")
		}
		info, err := os.Stat(f)
		if err != nil {
			return fmt.Errorf("cannot read --file %s: %w", f, errors.Unwrap(err))
		}
		if info.IsDir() {
			return fmt.Errorf("--file %s is a directory; give the log file itself", f)
		}
	}
	if stdin > 1 {
		return fmt.Errorf("standard input (-) can be read only once")
	}
	return nil
}

// limit bounds cluster reads only: a --file is read to its end.
func (o *TriageOptions) limit() time.Duration {
	if !o.fromCluster {
		return 0
	}
	return o.Timeout
}

// triageMemoryLimit is the soft limit of the Go heap and runtime while triage reads logs. What
// triage keeps is capped (evidence, names), so the heap's live part stays small; the limit stops
// the garbage between two collections from growing with the log's line lengths. With the
// binary's own pages (about 35 MB resident) the process stays under 64 MB.
const triageMemoryLimit = 24 << 20

func (o *TriageOptions) Run(ctx context.Context) error {
	if o.AnchorsERE {
		_, err := fmt.Fprintln(o.Out, triage.AnchorsERE())
		return err
	}
	if o.Catalog {
		return o.printCatalog()
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(triageMemoryLimit))
	}
	a := triage.NewAnalyzer(o.analyzerContext())
	var notes []string
	// incomplete is set when a file could be read only part-way: the report says what that part
	// holds, then the command fails.
	var incomplete error
	if o.fromCluster {
		var err error
		if notes, err = o.scanCluster(ctx, a); err != nil {
			return err
		}
	} else {
		var err error
		if notes, incomplete, err = o.scanFiles(a); err != nil {
			return err
		}
	}
	a.SetContextDefaults(triage.Context{"namespace": o.profile.Namespace})
	rep := a.Report()
	if o.printer.Structured() {
		if err := o.printer.PrintDocument(o.Out, triageDocument{APIVersion: identity.APIVersion, Kind: "TriageReport", Report: rep}); err != nil {
			return err
		}
	} else {
		for _, n := range notes {
			fmt.Fprintln(o.ErrOut, output.Line(n))
		}
		lines := "lines"
		if rep.LinesRead == 1 {
			lines = "line"
		}
		fmt.Fprintf(o.Out, "Read %d %s from %s\n\n", rep.LinesRead, lines, output.Line(rep.Source))
		if len(rep.Findings) == 0 {
			fmt.Fprintln(o.Out, "No known root cause found.")
		} else if err := findings.WriteText(o.Out, rep.Findings, findings.TextOptions{Color: output.ColorEnabled(o.Out)}); err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "\n%s\n", findings.SummaryLine(findings.Summarize(rep.Findings)))
	}
	if incomplete != nil {
		return incomplete
	}
	if findings.HasErrors(rep.Findings) {
		return exitcode.ErrFindings
	}
	return nil
}

// scanFiles reads every --file, so that no input is silently taken for a healthy log:
//   - a file in a form triage does not read (xz, zstd, zip, binary data...) stops the command
//     before any report: exit 2, with how to give the text instead;
//   - a file whose reading stops part-way (a truncated gzip) is analysed as far as it was read;
//     the report is printed and the command then fails: exit 3, as for any read that failed;
//   - an empty file gets a warning, and when every input is empty there is nothing to triage:
//     exit 2.
func (o *TriageOptions) scanFiles(a *triage.Analyzer) (notes []string, incomplete, err error) {
	var partial, empty []string
	var readErrs []error
	for _, path := range o.Files {
		before := a.LinesRead()
		name, err := o.scanFile(a, path)
		var formatErr *triage.FormatError
		var readErr *triage.ReadError
		switch {
		case errors.As(err, &formatErr):
			return nil, nil, exitcode.Invalid(err)
		case errors.As(err, &readErr):
			partial = append(partial, name)
			readErrs = append(readErrs, err)
		case err != nil:
			return nil, nil, err
		case a.LinesRead() == before:
			empty = append(empty, name)
			notes = append(notes, fmt.Sprintf("warning: %s is empty", name))
		}
	}
	if len(empty) == len(o.Files) {
		return nil, nil, exitcode.Invalidf("nothing to triage: %s is empty; give the log of a pod that has logged (kubectl logs -n <namespace> deploy/velero)", strings.Join(empty, ", "))
	}
	if len(readErrs) > 0 {
		incomplete = &exitcode.Error{Code: exitcode.Failed, Err: fmt.Errorf("the report is incomplete: %w; read %s again from an intact copy", errors.Join(readErrs...), strings.Join(partial, ", "))}
	}
	return notes, incomplete, nil
}

// scanFile reads one --file (- is standard input) and returns the name it has in the report.
func (o *TriageOptions) scanFile(a *triage.Analyzer, path string) (string, error) {
	var r io.Reader = o.In
	name := "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return path, exitcode.Invalid(fmt.Errorf("opening %s: %w", path, err))
		}
		defer f.Close()
		r, name = f, "file "+path
	}
	return name, a.Scan(r, name)
}

// scanCluster reads the storage container of each profile deployment that has one, and the
// namespace's BSL messages; it returns notes for logs it could not read.
func (o *TriageOptions) scanCluster(ctx context.Context, a *triage.Analyzer) ([]string, error) {
	if err := o.Factory.CheckAPIServer(ctx); err != nil {
		return nil, err
	}
	src := triage.ClusterSource{Namespace: o.profile.Namespace, Previous: o.Previous, Since: o.Since, MaxLogsPerDeployment: o.MaxPodLogs}
	for _, p := range o.profile.Pairs {
		container := p.StorageContainer
		if o.Container != "" {
			container = o.Container
		}
		if container != "" {
			src.Deployments = append(src.Deployments, triage.DeploymentLogs{Name: p.Workload.Name, Container: container})
		}
	}
	if len(src.Deployments) == 0 {
		return nil, exitcode.Invalidf("profile %s names no container that talks to storage; pass --container", o.profile.Name)
	}
	// The BSLs give the fixes their values (account, container, resource group).
	bsls, bslErr := bsl.Read(ctx, o.dynamic, o.profile.Namespace, "", time.Now())
	if bslErr == nil {
		for _, l := range bsls.Locations {
			a.SetContextDefaults(triage.Context{"bsl": l.Name, "container": l.Bucket, "account": l.Config["storageAccount"],
				"resourceGroup": l.Config["resourceGroup"], "subscription": l.Config["subscriptionId"]})
		}
	}
	a.SetContextDefaults(triage.Context{"deployment": src.Deployments[0].Name})
	sources, err := a.ScanCluster(ctx, o.client, src)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, exitcode.Invalid(fmt.Errorf("%w (is the product installed in namespace %s? use -n or --profile)", err, o.profile.Namespace))
		}
		return nil, kube.Explain(err, o.Factory.Host())
	}
	var notes []string
	notRead := map[string]int{}
	for _, s := range sources {
		if s.NotRead {
			notRead[s.Deployment]++
			continue
		}
		if s.Err != "" {
			which := "logs"
			if o.Previous {
				which = "previous logs"
			}
			notes = append(notes, fmt.Sprintf("warning: could not read the %s of pod %s container %s: %s", which, s.Pod, s.Container, s.Err))
		}
	}
	for _, d := range src.Deployments {
		if n := notRead[d.Name]; n > 0 {
			notes = append(notes, fmt.Sprintf("note: read the logs of %d replicas of %s and the state of all %d; --max-pod-logs=0 reads every log",
				o.MaxPodLogs, d.Name, o.MaxPodLogs+n))
		}
	}
	if len(sources) == 0 {
		notes = append(notes, fmt.Sprintf("warning: no pods of %s in namespace %s; only the BackupStorageLocations were read", src.Deployments[0].Name, o.profile.Namespace))
	}
	// Each BSL's message is Velero's latest word on it, dated by its last validation, so it is read
	// after the logs and ranks against them by time.
	if bslErr != nil {
		notes = append(notes, fmt.Sprintf("warning: could not read the BackupStorageLocations: %v", bslErr))
	} else {
		for _, l := range bsls.Locations {
			if l.Available() && l.LastValidationTime != nil {
				a.RecordValidated(l.Name, *l.LastValidationTime)
			}
			if l.Message == "" {
				continue
			}
			when := ""
			if l.LastValidationTime != nil {
				when = l.LastValidationTime.Format(time.RFC3339) + " "
			}
			a.AddText(fmt.Sprintf("%sBackupStorageLocation %s/%s phase=%s message: %s", when, l.Namespace, l.Name, l.Phase, l.Message), "bsl "+l.Name+" status")
		}
	}
	return notes, nil
}

// triageDocument is the report as a typed document, for the json, yaml and template printers.
type triageDocument struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	triage.Report
}

// triageCatalog is `triage --catalog -o json|yaml`.
type triageCatalog struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Signatures []triage.Entry `json:"signatures"`
}

func (o *TriageOptions) printCatalog() error {
	entries := triage.Entries()
	if o.printer.Structured() {
		return o.printer.PrintDocument(o.Out, triageCatalog{APIVersion: identity.APIVersion, Kind: "TriageCatalog", Signatures: entries})
	}
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "ID", Type: "string"}, {Name: "Severity", Type: "string"}, {Name: "Layer", Type: "string"}, {Name: "Title", Type: "string"},
		{Name: "Explanation", Type: "string", Priority: 1},
	}}
	for _, e := range entries {
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{e.ID, e.Severity, e.Layer, e.Title, e.Explanation}})
	}
	return output.PrintTable(o.Out, t, o.printer.Wide())
}

// analyzerContext: logs read from the cluster come from the profile's namespace, and so do logs
// whose namespace the user chose; a saved log otherwise names its own (velero/default), and the
// profile's namespace only fills in where it names none.
func (o *TriageOptions) analyzerContext() triage.Context {
	if o.fromCluster || o.namespaceChosen {
		return triage.Context{"namespace": o.profile.Namespace}
	}
	return nil
}
