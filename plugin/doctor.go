package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/doctor"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// DoctorOptions runs every check as one dependency graph and names the root cause first.
type DoctorOptions struct {
	genericiooptions.IOStreams
	Factory kube.Factory
	Profile profileFlags
	Azure   azureFlags
	Print   *output.PrintFlags
	Timeout time.Duration
	VaultID string
	Probe   bool
	Verbose bool
	// Fix applies every repair the tool can make, with DryRun, Yes, WaitBSL and BSLTimeout as
	// identity configure takes them.
	Fix        bool
	DryRun     string
	Yes        bool
	WaitBSL    bool
	BSLTimeout time.Duration
	// Contexts (or AllContexts) run one doctor per kubeconfig context, Parallel at a time.
	Contexts    []string
	AllContexts bool
	Parallel    int

	cmd     *cobra.Command
	printer *output.Printer
	profile profile.Profile
	client  kubernetes.Interface
	dynamic dynamic.Interface
}

// NewDoctorCommand builds `kubectl aksbackup doctor`.
func NewDoctorCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &DoctorOptions{IOStreams: streams, Factory: factory, Print: output.NewPrintFlags().WithWide().
		WithoutName("doctor reports checks and findings, not Kubernetes objects; identity status -o name lists the objects")}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Run every check at once and name the broken link first",
		Long: `Runs the tool's checks as a dependency graph, in parallel waves: the API server and your read access;
the workload identity wiring of the component's pods; the Azure half (the AKS cluster's OIDC issuer and
workload identity, the managed identity, its federated credentials, the storage account and the roles);
the BackupStorageLocations; log triage; Trusted Access (with --vault-id); and the blob write probe (with
--probe). A check whose prerequisite failed is skipped, "blocked by" the root cause, instead of adding
errors of its own.

The first line is the verdict, then the root causes with their fixes, then every check. Without Azure
access the in-cluster checks still run and the report says which checks were skipped and why.

--fix repairs what the tool itself can: the wiring, federated credentials and blob data role (identity
configure), the vault's Trusted Access binding (trusted-access create, with --vault-id) and useAAD on a
BackupStorageLocation you own (not the extension's), as one plan with --dry-run and a confirmation,
then runs doctor again and shows before and after. Everything else is listed with its own fix.

Exit codes: 0 healthy, 1 findings, 2 doctor could not run (bad input, API server unreachable).`,
		Example: `  # AKS Backup extension
  kubectl aksbackup doctor

  # Plain Velero, with the blob write probe, as JSON
  kubectl aksbackup doctor --profile velero --probe -o json`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.cmd = cmd
	o.Profile.AddFlags(cmd)
	o.Azure.AddFlags(cmd)
	o.Print.AddFlags(cmd)
	addTimeoutFlag(cmd, &o.Timeout, 3*time.Minute, "Bounds the whole run, every check included")
	cmd.Flags().StringVar(&o.VaultID, "vault-id", "", "ARM ID of the backup vault, to check its Trusted Access binding")
	cmd.Flags().BoolVar(&o.Probe, "probe", false, "Also write, read and delete a test blob as the component (see probe)")
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "Print the request counts, waves and each check's duration")
	cmd.Flags().BoolVar(&o.Fix, "fix", false, "Apply every fix this tool can make (identity configure, trusted-access create, useAAD on a BackupStorageLocation you own) after showing the plan, then run doctor again")
	cmd.Flags().StringVar(&o.DryRun, "dry-run", "none", "With --fix: none, client (print the plan) or server (the plan, validated by the API server)")
	cmd.Flags().Lookup("dry-run").NoOptDefVal = "client"
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, "With --fix: apply without asking")
	cmd.Flags().BoolVar(&o.WaitBSL, "wait-bsl", true, "With --fix: wait for the BackupStorageLocations to turn Available before checking again")
	cmd.Flags().DurationVar(&o.BSLTimeout, "bsl-timeout", 5*time.Minute, "With --fix --wait-bsl: how long to wait")
	cmd.Flags().StringSliceVar(&o.Contexts, "contexts", nil, "Run doctor on each of these kubeconfig contexts (comma-separated) and print one row per cluster")
	cmd.Flags().BoolVar(&o.AllContexts, "all-contexts", false, "Run doctor on every context of the kubeconfig")
	cmd.Flags().IntVar(&o.Parallel, "parallel", 4, "With --contexts/--all-contexts: how many clusters to check at once")
	o.addFleetGraphFlags(cmd) // --fleet (doctor_fleet.go)
	return cmd
}

func (o *DoctorOptions) Complete(*cobra.Command, []string) error {
	if o.fleet() {
		return nil // each context resolves its own clients (see diagnoseOrFail)
	}
	var err error
	if o.profile, err = o.Profile.Resolve(o.Factory); err != nil {
		return err
	}
	if o.client, err = o.Factory.Clientset(); err != nil {
		return err
	}
	o.dynamic, err = o.Factory.Dynamic()
	return err
}

func (o *DoctorOptions) Validate() error {
	var errs []error
	var err error
	if o.printer, err = o.Print.ToPrinter(); err != nil {
		errs = append(errs, err)
	}
	if err := validateTimeout(o.Timeout); err != nil {
		errs = append(errs, err)
	}
	if o.VaultID != "" {
		if _, err := azure.ParseResourceID(o.VaultID, azure.TypeBackupVault); err != nil {
			errs = append(errs, fmt.Errorf("--vault-id: %w", err))
		}
	}
	if err := o.Azure.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch o.DryRun {
	case "none", "client", "server":
	default:
		errs = append(errs, fmt.Errorf("--dry-run must be none, client or server, got %q", o.DryRun))
	}
	if !o.Fix && (o.DryRun != "none" || o.Yes) {
		errs = append(errs, errors.New("--dry-run and --yes go with --fix"))
	}
	if o.Fix && o.printer != nil && !o.printer.Human() {
		errs = append(errs, errors.New("--fix prints the plan and the report before and after as text: drop -o"))
	}
	if o.fleet() {
		if o.Fix {
			errs = append(errs, errors.New("--fix works on one cluster at a time: drop --contexts/--all-contexts, or pick the context with --context"))
		}
		if o.Azure.ClusterID != "" || o.Azure.ClusterName != "" {
			errs = append(errs, errors.New("--cluster-id and --cluster-name name one cluster: with --contexts each cluster is inferred from its az aks get-credentials context"))
		}
		if len(o.Contexts) > 0 && o.AllContexts {
			errs = append(errs, errors.New("give --contexts or --all-contexts, not both"))
		}
		if err := o.fleetOutputSupported("--contexts/--all-contexts"); err != nil {
			errs = append(errs, err)
		}
		if o.Parallel < 1 {
			errs = append(errs, fmt.Errorf("--parallel must be at least 1, got %d", o.Parallel))
		}
		if contextFactories == nil {
			errs = append(errs, errors.New("--contexts needs kubeconfig contexts"))
		}
	}
	return errors.Join(errs...)
}

func (o *DoctorOptions) fleet() bool { return len(o.Contexts) > 0 || o.AllContexts }

func (o *DoctorOptions) limit() time.Duration { return o.Timeout }

func (o *DoctorOptions) Run(ctx context.Context) error {
	if o.fleet() {
		contexts, err := o.fleetContexts()
		if err != nil {
			return exitcode.Invalid(err)
		}
		if len(contexts) == 0 {
			return exitcode.Invalidf("the kubeconfig has no contexts")
		}
		return o.runFleet(ctx, contexts)
	}
	start := time.Now()
	kubeBefore, armBefore := kube.RequestsSent(), azure.RequestsSent()
	rep, err := o.diagnose(ctx)
	if err != nil {
		return err
	}
	rep.Requests = doctor.Requests{Kubernetes: kube.RequestsSent() - kubeBefore, Azure: azure.RequestsSent() - armBefore}
	if o.Fix {
		return o.fix(ctx, rep)
	}
	if o.printer.Structured() {
		err = o.printer.PrintDocument(o.Out, rep)
	} else {
		err = doctor.WriteText(o.Out, rep, findings.TextOptions{Color: output.ColorEnabled(o.Out), Wide: o.printer.Wide()})
	}
	if err != nil {
		return err
	}
	if o.Verbose {
		fmt.Fprintf(o.ErrOut, "doctor: %d checks in %d waves, %d Kubernetes and %d ARM requests, %s\n",
			len(rep.Checks), rep.Waves, rep.Requests.Kubernetes, rep.Requests.Azure, time.Since(start).Round(time.Millisecond))
		for _, c := range rep.Checks {
			if c.Duration != "" {
				fmt.Fprintf(o.ErrOut, "  wave %d  %-22s %s\n", c.Wave, c.ID, c.Duration)
			}
		}
	}
	return doctorExit(rep)
}

// doctorExit: 0 healthy, 1 findings, 2 could not run.
func doctorExit(rep *doctor.Report) error {
	switch rep.Verdict {
	case doctor.Healthy:
		return nil
	case doctor.CouldNotRun:
		return &exitcode.Error{Code: exitcode.InvalidInput, Err: errors.New(rep.Summary)}
	}
	return exitcode.ErrFindings
}

// Check IDs, stable for scripts that read -o json.
const (
	checkKubeAPI          = "kube-api"
	checkReadAccess       = "read-access"
	checkStatusRead       = "identity-read"
	checkWiring           = "workload-identity"
	checkAKSCluster       = "aks-cluster"
	checkManagedIdentity  = "managed-identity"
	checkFederation       = "federated-credentials"
	checkStorage          = "storage-account"
	checkRoles            = "storage-roles"
	checkBSL              = "backup-storage-locations"
	checkTriage           = "log-triage"
	checkTrustedAccess    = "trusted-access"
	checkProbe            = "blob-write-probe"
	azureSkippedFindingID = "azure-checks-skipped"
)

// azureView assigns each Azure finding of identity status to the check that shows it; anything else
// identity status reports is part of the workload identity wiring.
func azureView(id string) string {
	switch {
	case id == catalog.ClusterNotFound.ID, strings.HasPrefix(id, "oidc-"), strings.HasPrefix(id, "workload-identity-"),
		strings.HasPrefix(id, "cluster-identity-"), id == "issuer-mismatch", strings.HasPrefix(id, "resource-provider"), id == "azure-read-failed":
		return checkAKSCluster
	case strings.HasPrefix(id, "extension-"), strings.HasPrefix(id, "identity-"), id == "wi-client-id-wrong-identity":
		return checkManagedIdentity
	case strings.HasPrefix(id, "federated-credential"):
		return checkFederation
	case strings.HasPrefix(id, "storage-account-contributor"), strings.HasSuffix(id, "-role-missing"), strings.HasPrefix(id, "role-"):
		return checkRoles
	case strings.HasPrefix(id, "storage-"), id == "container-not-found", id == "shared-key-disabled":
		return checkStorage
	}
	return checkWiring
}

// doctorRun holds what the checks read, shared by the checks that look at it.
type doctorRun struct {
	o *DoctorOptions

	mu           sync.Mutex
	status       []findings.Finding
	azureSkipped string
}

func (o *DoctorOptions) diagnose(ctx context.Context) (*doctor.Report, error) {
	run := &doctorRun{o: o}
	g, err := doctor.NewGraph(run.checks()...)
	if err != nil {
		return nil, err
	}
	results, ranked, waves := g.Run(ctx)
	rep := doctor.NewReport(results, ranked, waves, checkKubeAPI)
	rep.Profile, rep.Namespace = o.profile.Name, o.profile.Namespace
	return rep, nil
}

func (r *doctorRun) checks() []doctor.Check {
	o := r.o
	view := func(id, title string, needs ...string) doctor.Check {
		return doctor.Check{ID: id, Title: title, Needs: needs, Local: true, Run: func(context.Context) doctor.Outcome { return r.view(id) }}
	}
	checks := []doctor.Check{
		{ID: checkKubeAPI, Title: "Kubernetes API server", Run: func(ctx context.Context) doctor.Outcome {
			if err := o.Factory.CheckAPIServer(ctx); err != nil {
				return doctor.Outcome{Err: err}
			}
			return doctor.Outcome{Detail: o.Factory.Host()}
		}},
		{ID: checkReadAccess, Title: "Read access (RBAC)", Needs: []string{checkKubeAPI}, Run: r.readAccess},
		{ID: checkStatusRead, Title: "Identity status (cluster and Azure)", Needs: []string{checkKubeAPI}, Run: r.readStatus},
		view(checkWiring, "Workload identity wiring", checkStatusRead),
		view(checkAKSCluster, "AKS cluster: OIDC issuer, workload identity", checkStatusRead),
		view(checkManagedIdentity, "Managed identity", checkStatusRead),
		view(checkFederation, "Federated credentials", checkAKSCluster, checkManagedIdentity),
		view(checkStorage, "Storage account and container", checkManagedIdentity),
		view(checkRoles, "Blob data roles", checkManagedIdentity, checkStorage),
		{ID: checkBSL, Title: "BackupStorageLocations", Needs: []string{checkKubeAPI}, Run: r.locations},
		{ID: checkTriage, Title: "Velero log triage", Needs: []string{checkKubeAPI}, Run: func(ctx context.Context) doctor.Outcome {
			return r.inProcess(ctx, NewTriageCommand)
		}},
		{ID: checkTrustedAccess, Title: "Trusted Access", Run: func(ctx context.Context) doctor.Outcome {
			if o.VaultID == "" {
				return doctor.Outcome{NotApplicable: "give --vault-id to check the backup vault's binding"}
			}
			return r.inProcess(ctx, NewTrustedAccessCommand, "status", "--vault-id", o.VaultID)
		}},
		{ID: checkProbe, Title: "Blob write probe", Needs: []string{checkWiring, checkFederation, checkRoles, checkStorage, checkBSL},
			Run: func(ctx context.Context) doctor.Outcome {
				if !o.Probe {
					return doctor.Outcome{NotApplicable: "add --probe to write a test blob as the component"}
				}
				return r.inProcess(ctx, NewProbeCommand)
			}},
	}
	return checks
}

// readAccess asks the API server, before anything depends on it, whether the caller may make the
// reads the checks make; a denied read is a warning, and the check that needs it says so.
func (r *doctorRun) readAccess(ctx context.Context) doctor.Outcome {
	ns := r.o.profile.Namespace
	reads := []authorizationv1.ResourceAttributes{
		{Verb: "list", Resource: "pods"}, {Verb: "get", Resource: "pods", Subresource: "log"},
		{Verb: "list", Resource: "serviceaccounts"}, {Verb: "list", Group: "apps", Resource: "deployments"},
		{Verb: "list", Group: "velero.io", Resource: "backupstoragelocations"},
	}
	var denied []string
	for _, ra := range reads {
		ra.Namespace = ns
		review, err := r.o.client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
			&authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &ra}}, metav1.CreateOptions{})
		if err != nil {
			return doctor.Outcome{Skip: "cannot ask the API server about access: " + err.Error()}
		}
		if !review.Status.Allowed {
			what := ra.Verb + " " + ra.Resource
			if ra.Subresource != "" {
				what += "/" + ra.Subresource
			}
			if ra.Group != "" {
				what += "." + ra.Group
			}
			denied = append(denied, what)
		}
	}
	if len(denied) == 0 {
		return doctor.Outcome{Detail: "every read allowed in namespace " + ns}
	}
	return doctor.Outcome{Findings: []findings.Finding{catalog.ReadAccessDenied.New("namespace/"+ns,
		fmt.Sprintf("you may not %s in namespace %s; the checks that need it are skipped", strings.Join(denied, ", "), ns),
		fmt.Sprintf("kubectl auth can-i --list -n %s", ns))}}
}

// readStatus runs identity status (the cluster side, and the Azure half when the cluster is known)
// once; the wiring, cluster, identity, federation, storage and role checks each show their part.
func (r *doctorRun) readStatus(ctx context.Context) doctor.Outcome {
	data, err := runInProcess(ctx, r.o.Factory, NewIdentityStatusCommand, r.args(NewIdentityStatusCommand))
	if err != nil {
		return doctor.Outcome{Err: err}
	}
	fs, err := findingsIn(data)
	if err != nil {
		return doctor.Outcome{Err: err}
	}
	// The Azure half ran only if the report carries its summary; anything else is a skip, never an
	// all-clear.
	var doc struct {
		Azure json.RawMessage `json:"azure"`
	}
	_ = json.Unmarshal(data, &doc)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(doc.Azure) == 0 || string(doc.Azure) == "null" {
		r.azureSkipped = "the Azure half was not checked (--no-azure, or no AKS cluster given or inferable: pass --cluster-id)"
	}
	for _, f := range fs {
		if f.ID == azureSkippedFindingID {
			r.azureSkipped = f.Message
			continue
		}
		r.status = append(r.status, f)
	}
	detail := "cluster side"
	if r.azureSkipped == "" {
		detail += " and Azure"
	}
	return doctor.Outcome{Detail: detail + " read"}
}

// view shows the part of identity status that belongs to one check.
func (r *doctorRun) view(check string) doctor.Outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	if check != checkWiring && r.azureSkipped != "" {
		return doctor.Outcome{Skip: "no Azure access: " + r.azureSkipped}
	}
	var mine []findings.Finding
	for _, f := range r.status {
		if azureView(f.ID) == check {
			mine = append(mine, f)
		}
	}
	if check == checkManagedIdentity && len(mine) == 0 && r.o.profile.ExtensionType == "" {
		return doctor.Outcome{Findings: mine, Detail: "the service accounts' user-assigned identity"}
	}
	return doctor.Outcome{Findings: mine}
}

func (r *doctorRun) locations(ctx context.Context) doctor.Outcome {
	rep, err := bsl.Read(ctx, r.o.dynamic, r.o.profile.Namespace, "", time.Now())
	if err != nil {
		return doctor.Outcome{Skip: "cannot read the BackupStorageLocations: " + err.Error()}
	}
	fs := append([]findings.Finding{}, rep.Findings...)
	available := 0
	for _, l := range rep.Locations {
		fs = append(fs, l.Findings...)
		if l.Available() {
			available++
		}
	}
	return doctor.Outcome{Findings: fs, Detail: fmt.Sprintf("%d of %d Available", available, len(rep.Locations))}
}

func (r *doctorRun) inProcess(ctx context.Context, newCmd commandBuilder, args ...string) doctor.Outcome {
	data, err := runInProcess(ctx, r.o.Factory, newCmd, append(args, r.args(newCmd)...))
	if err != nil {
		return doctor.Outcome{Skip: err.Error()}
	}
	fs, err := findingsIn(data)
	if err != nil {
		return doctor.Outcome{Err: err}
	}
	return doctor.Outcome{Findings: fs}
}

// args selects the same component, cluster and Azure for another command.
func (r *doctorRun) args(newCmd commandBuilder) []string {
	target := newCmd(r.o.Factory, genericiooptions.IOStreams{})
	if sub, _, err := target.Find([]string{"status"}); err == nil && sub != target {
		target = sub
	}
	args := forwardedFlags(r.o.cmd, target)
	if target.Flags().Lookup("profile") != nil {
		args = append(selectionArgs(r.o.profile), args...)
	}
	return args
}
