package plugin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/bsl"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// BSLOptions inspects BackupStorageLocations and optionally waits for them to turn Available.
type BSLOptions struct {
	genericiooptions.IOStreams
	Factory       kube.Factory
	Profile       profileFlags
	Print         *output.PrintFlags
	WaitAvailable bool
	Timeout       time.Duration
	PollInterval  time.Duration

	name            string
	pollIntervalSet bool
	printer         *output.Printer
	profile         profile.Profile
	client          dynamic.Interface
	now             func() time.Time
}

// NewBSLCommand builds `kubectl aksbackup bsl`.
func NewBSLCommand(factory kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &BSLOptions{IOStreams: streams, Factory: factory, now: time.Now, Print: output.NewPrintFlags().WithWide()}
	cmd := &cobra.Command{
		Use:     "bsl [NAME]",
		Aliases: []string{"backupstoragelocation", "backupstoragelocations"},
		Short:   "Show BackupStorageLocations with the root cause of any that is Unavailable",
		Long: `Lists the profile namespace's Velero BackupStorageLocations (or the one named): phase, default,
last validation and sync (marked stale when older than two periods), provider, bucket and the Azure
config keys. An Unavailable location's message is triaged against the root-cause catalog, so the
output names the cause and the fix. With --wait-available it waits, showing progress, until every
selected location is Available: role assignments take minutes to apply.

Exit codes: 0 all good (or Available within --timeout), 1 a location has an error finding (or is not
Available at the timeout), 2 bad input, 3 the cluster could not be read (also: no answer within
--timeout).`,
		Example: `  # The AKS Backup extension's locations (namespace dataprotection-microsoft)
  kubectl aksbackup bsl

  # Plain Velero, one location, as JSON
  kubectl aksbackup bsl default --profile velero -o json

  # After granting a role: wait until Velero validates the location again
  kubectl aksbackup bsl --wait-available --timeout 15m`,
		Args: cobra.MaximumNArgs(1),
		RunE: runE(o),
	}
	o.Profile.AddFlags(cmd)
	o.Print.AddFlags(cmd)
	cmd.Flags().BoolVar(&o.WaitAvailable, "wait-available", false, "Wait until every selected location is Available")
	addTimeoutFlag(cmd, &o.Timeout, 15*time.Minute, "Bounds the whole command, --wait-available's wait included")
	cmd.Flags().DurationVar(&o.PollInterval, "poll-interval", 30*time.Second, "How often --wait-available re-judges the locations without a change (changes arrive by watch; without the watch permission, how often it lists them)")
	return cmd
}

func (o *BSLOptions) Complete(cmd *cobra.Command, args []string) error {
	o.pollIntervalSet = cmd.Flags().Changed("poll-interval")
	if len(args) == 1 {
		o.name = args[0]
	}
	var err error
	if o.profile, err = o.Profile.Resolve(o.Factory); err != nil {
		return err
	}
	o.client, err = o.Factory.Dynamic()
	return err
}

func (o *BSLOptions) Validate() error {
	var err error
	if o.printer, err = o.Print.ToPrinter(); err != nil {
		return err
	}
	if o.name != "" {
		if err := checkSubdomain("BackupStorageLocation name", o.name, "list them with: kubectl aksbackup bsl"); err != nil {
			return err
		}
	}
	if err := validateTimeout(o.Timeout); err != nil {
		return err
	}
	if o.PollInterval <= 0 {
		return fmt.Errorf("--poll-interval must be positive, got %s", o.PollInterval)
	}
	if !o.WaitAvailable && o.pollIntervalSet {
		return fmt.Errorf("--poll-interval only applies with --wait-available")
	}
	return nil
}

func (o *BSLOptions) limit() time.Duration { return o.Timeout }

func (o *BSLOptions) read(ctx context.Context) (*bsl.Report, error) {
	rep, err := bsl.Read(ctx, o.client, o.profile.Namespace, o.name, o.now())
	if errors.Is(err, bsl.ErrNotFound) || errors.Is(err, bsl.ErrNoCRD) {
		return nil, exitcode.Invalid(err)
	}
	if err != nil {
		return nil, kube.Explain(err, o.Factory.Host())
	}
	return rep, nil
}

func (o *BSLOptions) Run(ctx context.Context) error {
	if err := o.Factory.CheckAPIServer(ctx); err != nil {
		return err
	}
	rep, err := o.read(ctx)
	if err != nil {
		return err
	}
	if o.WaitAvailable {
		if rep, err = o.wait(ctx, rep); err != nil {
			return err
		}
	}
	if o.printer.Structured() {
		err = o.printer.PrintDocument(o.Out, rep)
	} else {
		err = bsl.WriteText(o.Out, rep, o.now(), findings.TextOptions{Color: output.ColorEnabled(o.Out), Wide: o.printer.Wide()})
	}
	if err != nil {
		return err
	}
	if o.WaitAvailable && !rep.AllAvailable() {
		return exitcode.ErrFindings
	}
	if !rep.Healthy() && !(o.WaitAvailable && rep.AllAvailable()) {
		return exitcode.ErrFindings
	}
	return nil
}

// wait watches the locations until every one is Available or the timeout passes, printing a line
// on ErrOut whenever a phase or message changes (and a heartbeat every minute), so a long wait
// shows life.
func (o *BSLOptions) wait(ctx context.Context, rep *bsl.Report) (*bsl.Report, error) {
	if len(rep.Locations) == 0 {
		return rep, nil // nothing to wait for; the report says so
	}
	start := o.now()
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	last, lastBeat := "", start
	progress := func(rep *bsl.Report) {
		state := waitState(rep)
		elapsed := o.now().Sub(start).Round(time.Second)
		if rep.AllAvailable() {
			fmt.Fprintf(o.ErrOut, "All %d BackupStorageLocation(s) Available after %s.\n", len(rep.Locations), elapsed)
		} else if state != last || o.now().Sub(lastBeat) >= time.Minute {
			fmt.Fprintf(o.ErrOut, "[%s] waiting: %s\n", elapsed, output.Line(state))
			last, lastBeat = state, o.now()
		}
	}
	notice := func(reason error) {
		fmt.Fprintf(o.ErrOut, "Cannot watch BackupStorageLocations (%s); reading them every %s instead.\n", output.Line(reason.Error()), o.PollInterval)
	}
	progress(rep)
	next, err := bsl.Wait(ctx, o.client, o.profile.Namespace, o.name, bsl.WaitOptions{Resync: o.PollInterval, Now: o.now, Progress: progress, Notice: notice})
	if next != nil {
		rep = next
	}
	switch {
	case err == nil:
		return rep, nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		fmt.Fprintf(o.ErrOut, "Timed out after %s: %s\n", o.Timeout, output.Line(waitState(rep)))
		return rep, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	return nil, kube.Explain(err, o.Factory.Host())
}

// waitState summarises each location: "default Unavailable (blob-data-role-missing)".
func waitState(rep *bsl.Report) string {
	var parts []string
	for _, l := range rep.Locations {
		phase := l.Phase
		if phase == "" {
			phase = "not validated yet"
		}
		s := l.Name + " " + phase
		if !l.Available() {
			for _, f := range l.Findings {
				if f.Severity == findings.SeverityError && f.ID != "bsl-unavailable" {
					s += " (" + f.ID + ")"
					break
				}
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}
