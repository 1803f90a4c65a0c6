package doctor

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
)

// APIVersion of doctor's documents.
const APIVersion = "aksbackup.kubectl.io/v1alpha1"

// Verdict is the first line of the report.
type Verdict string

const (
	Healthy     Verdict = "HEALTHY"
	Unhealthy   Verdict = "UNHEALTHY"
	CouldNotRun Verdict = "COULD-NOT-RUN"
)

// Report is `doctor -o json|yaml`.
type Report struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	Context    string  `json:"context,omitempty"`
	Profile    string  `json:"profile"`
	Namespace  string  `json:"namespace"`
	Verdict    Verdict `json:"verdict"`
	// Summary is the verdict line without the verdict word.
	Summary string `json:"summary"`
	// RootCauses are the errors nothing else present explains, first the one to fix first.
	RootCauses []findings.Finding `json:"rootCauses,omitempty"`
	// Findings holds every finding, ranked, with CausedBy linking effects to their causes.
	Findings []findings.Finding `json:"findings,omitempty"`
	Checks   []Result           `json:"checks"`
	Waves    int                `json:"waves"`
	Requests Requests           `json:"requests"`
}

// Requests counts what the run sent.
type Requests struct {
	Kubernetes int64 `json:"kubernetes"`
	Azure      int64 `json:"azure"`
}

// NewReport assembles the report from a graph run. fatal names the check whose error means doctor
// could not run at all (the API server), if any.
func NewReport(results []Result, ranked []findings.Finding, waves int, fatal string) *Report {
	r := &Report{APIVersion: APIVersion, Kind: "DoctorReport", Checks: results, Findings: ranked, Waves: waves,
		RootCauses: RootCauses(ranked)}
	for _, res := range results {
		if res.ID == fatal && res.Status == StatusError {
			r.Verdict, r.Summary = CouldNotRun, fmt.Sprintf("%s: %s", res.Title, res.Detail)
			return r
		}
	}
	if len(r.RootCauses) > 0 {
		top := r.RootCauses[0]
		r.Verdict = Unhealthy
		r.Summary = "backups cannot be written — root cause " + top.ID
		if top.Message != "" {
			r.Summary += " (" + top.Message + ")"
		}
		if n := len(r.RootCauses) - 1; n > 0 {
			r.Summary += fmt.Sprintf("; %d more root cause(s)", n)
		}
		return r
	}
	var errs []string
	for _, res := range results {
		if res.Status == StatusError {
			errs = append(errs, res.ID)
		}
	}
	if len(errs) > 0 {
		r.Verdict, r.Summary = Unhealthy, "checks could not run: "+strings.Join(errs, ", ")
		return r
	}
	ok, skipped := 0, 0
	for _, res := range results {
		switch res.Status {
		case StatusOK, StatusWarning:
			ok++
		case StatusSkipped:
			skipped++
		}
	}
	warnings := findings.Summarize(ranked).Warnings
	r.Verdict = Healthy
	r.Summary = fmt.Sprintf("%d checks passed", ok)
	if skipped > 0 {
		r.Summary += fmt.Sprintf(", %d skipped", skipped)
	}
	if warnings > 0 {
		r.Summary += fmt.Sprintf(", %d warning(s)", warnings)
	}
	return r
}

// Line is the verdict line.
func (r *Report) Line() string { return string(r.Verdict) + ": " + r.Summary }

// Healthy reports whether doctor found nothing to fix.
func (r *Report) Healthy() bool { return r.Verdict == Healthy }

// CheckTable is the check table: one row per check; -o wide adds the wave it ran in, what blocked
// it, its findings and how long it took.
func CheckTable(r *Report) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Check", Type: "string"}, {Name: "Status", Type: "string"}, {Name: "Detail", Type: "string"},
		{Name: "Wave", Type: "string", Priority: 1}, {Name: "Blocked By", Type: "string", Priority: 1},
		{Name: "Findings", Type: "string", Priority: 1}, {Name: "Duration", Type: "string", Priority: 1},
	}}
	orNone := func(s string) string {
		if s == "" {
			return "<none>"
		}
		return s
	}
	for _, c := range r.Checks {
		detail := c.Detail
		if detail == "" && len(c.Findings) > 0 {
			detail = strings.Join(c.Findings, ", ")
		}
		wave := "-" // not run: blocked, or only read what others fetched
		if c.Wave > 0 {
			wave = strconv.Itoa(c.Wave)
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{c.ID, string(c.Status), detail,
			wave, orNone(c.BlockedBy), orNone(strings.Join(c.Findings, ",")), orNone(c.Duration)}})
	}
	return t
}

// WriteText prints the verdict, the root causes with their fixes, then the check table; findings the
// root causes explain are counted, not repeated.
func WriteText(w io.Writer, r *Report, opts findings.TextOptions) error {
	fmt.Fprintln(w, output.Line(r.Line()))
	if len(r.RootCauses) > 0 {
		fmt.Fprintln(w, "\nRoot causes:")
		if err := findings.WriteText(w, r.RootCauses, opts); err != nil {
			return err
		}
	}
	var warnings []findings.Finding
	explained := 0
	for _, f := range r.Findings {
		switch {
		case f.Severity == findings.SeverityWarning && len(f.CausedBy) == 0:
			warnings = append(warnings, f)
		case len(f.CausedBy) > 0:
			explained++
		}
	}
	if len(warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		if err := findings.WriteText(w, warnings, opts); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nChecks:")
	if err := output.PrintTable(w, CheckTable(r), opts.Wide); err != nil {
		return err
	}
	if explained > 0 {
		fmt.Fprintf(w, "\n%d more finding(s) are effects of the root causes above; -o yaml lists them with causedBy.\n", explained)
	}
	return nil
}
