package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bundle"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/version"
)

// BundleOptions writes a redacted support bundle for the profile's namespace.
type BundleOptions struct {
	genericiooptions.IOStreams
	Factory   kube.Factory
	Profile   profileFlags
	Azure     azureFlags
	File      string
	Overwrite bool
	Since     time.Duration
	LogBytes  int
	Timeout   time.Duration

	cmd     *cobra.Command
	profile profile.Profile
	client  kubernetes.Interface
	dynamic dynamic.Interface
	now     func() time.Time
}

// NewBundleCommand builds `kubectl aksbackup bundle`.
func NewBundleCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &BundleOptions{IOStreams: streams, Factory: factory, now: time.Now}
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Write a redacted support bundle (tar.gz) for a support ticket",
		Long: `Collects, into one tar.gz: the tool's reports as JSON (identity status with the Azure half when the
cluster is known, BackupStorageLocations, log triage), the YAML of the namespace's
BackupStorageLocations, service accounts, workloads and pods, the namespace's events, the recent logs of
the component's pods, and the tool's version. MANIFEST.yaml lists every file and what could not be read.

No Secret is ever read. Every file passes through redaction (tokens, keys, SAS signatures, client
secrets), and managedFields and last-applied-configuration annotations are dropped. A read that is
forbidden is recorded in the manifest and the rest is still collected.`,
		Example: `  # AKS Backup extension
  kubectl aksbackup bundle

  # Plain Velero, the last 30 minutes of logs, to a chosen file
  kubectl aksbackup bundle --profile velero --since 30m --file velero-ticket.tar.gz`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.cmd = cmd
	o.Profile.AddFlags(cmd)
	o.Azure.AddFlags(cmd)
	cmd.Flags().StringVar(&o.File, "file", "", "Where to write the bundle (default aksbackup-bundle-<namespace>-<time>.tar.gz in the current directory)")
	cmd.Flags().BoolVar(&o.Overwrite, "overwrite", false, "Replace --file if it exists")
	cmd.Flags().DurationVar(&o.Since, "since", time.Hour, "How far back the logs reach")
	cmd.Flags().IntVar(&o.LogBytes, "log-bytes", 4<<20, "The most recent bytes of each container's log to keep")
	addTimeoutFlag(cmd, &o.Timeout, 5*time.Minute, "Bounds the whole collection")
	return cmd
}

func (o *BundleOptions) Complete(*cobra.Command, []string) error {
	var err error
	if o.profile, err = o.Profile.Resolve(o.Factory); err != nil {
		return err
	}
	if o.File == "" {
		o.File = fmt.Sprintf("aksbackup-bundle-%s-%s.tar.gz", o.profile.Namespace, o.now().UTC().Format("20060102T150405Z"))
	}
	if o.client, err = o.Factory.Clientset(); err != nil {
		return err
	}
	o.dynamic, err = o.Factory.Dynamic()
	return err
}

func (o *BundleOptions) Validate() error {
	var errs []error
	if err := validateTimeout(o.Timeout); err != nil {
		errs = append(errs, err)
	}
	if o.Since <= 0 {
		errs = append(errs, fmt.Errorf("--since must be positive, got %s", o.Since))
	}
	if o.LogBytes <= 0 {
		errs = append(errs, fmt.Errorf("--log-bytes must be positive, got %d", o.LogBytes))
	}
	if !strings.HasSuffix(o.File, ".tar.gz") && !strings.HasSuffix(o.File, ".tgz") {
		errs = append(errs, fmt.Errorf("--file %q must end in .tar.gz or .tgz", o.File))
	}
	if _, err := os.Stat(o.File); err == nil && !o.Overwrite {
		errs = append(errs, fmt.Errorf("%s exists: choose another --file or add --overwrite", o.File))
	}
	if dir := filepath.Dir(o.File); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("--file %q: directory %s does not exist", o.File, dir))
		}
	}
	if err := o.Azure.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (o *BundleOptions) limit() time.Duration { return o.Timeout }

// Run writes the archive to a temporary file beside --file and renames it at the end, so an
// interrupted run leaves no half bundle behind.
func (o *BundleOptions) Run(ctx context.Context) error {
	if err := o.Factory.CheckAPIServer(ctx); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.File), ".aksbackup-bundle-*.tar.gz")
	if err != nil {
		return exitcode.Invalid(fmt.Errorf("cannot write the bundle: %w", err))
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	a := bundle.NewArchive(tmp, o.now())
	a.SetHeader(version.Get(), o.profile.Namespace)
	if err := o.collect(ctx, a); err != nil {
		return err
	}
	if err := a.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), o.File); err != nil {
		return fmt.Errorf("writing %s: %w", o.File, err)
	}
	m := a.Manifest()
	size := int64(0)
	if st, err := os.Stat(o.File); err == nil {
		size = st.Size()
	}
	fmt.Fprintf(o.Out, "Wrote %s: %d files, %d KiB compressed.\n", output.Line(o.File), len(m.Files)+1, (size+1023)/1024)
	for _, s := range m.Skipped {
		fmt.Fprintf(o.Out, "  not collected: %s (%s)\n", output.Line(s.What), output.Line(s.Reason))
	}
	fmt.Fprintln(o.Out, bundle.Redaction)
	return nil
}

func (o *BundleOptions) collect(ctx context.Context, a *bundle.Archive) error {
	if err := a.AddJSON("version.json", "the tool's version", version.Get()); err != nil {
		return err
	}
	// The tool's own reports, run in-process with the same selection, as JSON.
	reports := []struct {
		file, about string
		newCmd      commandBuilder
		args        []string
	}{
		{"reports/identity-status.json", "identity status -o json", NewIdentityStatusCommand, nil},
		{"reports/bsl.json", "bsl -o json", NewBSLCommand, nil},
		{"reports/triage.json", "triage -o json", NewTriageCommand, []string{"--since", o.Since.String()}},
	}
	for _, r := range reports {
		data, err := runInProcess(ctx, o.Factory, r.newCmd, o.reportArgs(r.newCmd, r.args...))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			a.Skip(r.file, err.Error())
			continue
		}
		if err := a.AddText(r.file, r.about, data); err != nil {
			return err
		}
	}
	var workloads []string
	for _, p := range o.profile.Pairs {
		workloads = append(workloads, p.Workload.Name)
	}
	return bundle.Collect(ctx, a, bundle.Source{
		Client: o.client, Dynamic: o.dynamic, Namespace: o.profile.Namespace, Workloads: workloads,
		Logs: o.readLog, LogSince: o.Since, LogBytes: o.LogBytes,
	})
}

// reportArgs selects the same component, cluster and Azure for another command.
func (o *BundleOptions) reportArgs(newCmd commandBuilder, extra ...string) []string {
	args := append(selectionArgs(o.profile), forwardedFlags(o.cmd, newCmd(o.Factory, genericiooptions.IOStreams{}))...)
	return append(args, extra...)
}

func (o *BundleOptions) readLog(ctx context.Context, namespace, pod, container string, since time.Duration) (io.ReadCloser, error) {
	seconds := int64(since.Seconds())
	return o.client.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, SinceSeconds: &seconds}).Stream(ctx)
}
