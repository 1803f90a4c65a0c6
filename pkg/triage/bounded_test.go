package triage

import (
	"fmt"
	"strings"
	"testing"
)

// TestAmbiguousInputsAreDeterministic: a line that names two storage accounts or two locations
// gives the same filled fix on every run: the first one the log names.
func TestAmbiguousInputsAreDeterministic(t *testing.T) {
	twoAccounts := `{"level":"error","msg":"fail to validate backup store","time":"2026-11-21T02:00:00Z",` +
		`"primary":"https://firstaccount.blob.core.windows.net/velero","mirror":"https://secondaccount.blob.core.windows.net/velero",` +
		`"a":"https://thirdaccount.blob.core.windows.net/x","z":"https://fourthaccount.blob.core.windows.net/y",` +
		`"error.message":"AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission."}`
	twoLocations := []string{
		at("2026-11-21T02:00:00Z", `level=error msg="fail" backup-storage-location=velero/zeta error="AuthorizationPermissionMismatch"`),
		at("2026-11-21T02:00:01Z", `level=error msg="fail" backup-storage-location=velero/alpha error="AuthorizationPermissionMismatch"`),
	}
	tests := []struct {
		name  string
		lines []string
		want  string // in the remediation
	}{
		{"JSON line naming four accounts: the first written", []string{twoAccounts}, "-n firstaccount"},
		{"two locations: the first in the log", twoLocations, "zeta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := ""
			for run := 0; run < 40; run++ {
				rep := analyze(t, Context{"namespace": "velero"}, tt.lines...)
				if len(rep.Findings) != 1 {
					t.Fatalf("findings %v", ids(rep))
				}
				got := strings.Join(rep.Findings[0].Remediation, "\n") + "\n" + strings.Join(rep.Findings[0].Affected, ",")
				if run == 0 {
					first = got
					if !strings.Contains(got, tt.want) {
						t.Fatalf("remediation lacks %q:\n%s", tt.want, got)
					}
				} else if got != first {
					t.Fatalf("run %d differs:\n%s\nfirst run:\n%s", run, got, first)
				}
			}
		})
	}
}

func TestAffectedListEndsInAndNMore(t *testing.T) {
	tests := []struct {
		distinct int
		want     string
	}{
		{1, "bsl/velero/loc-0"},
		{maxAffected, "bsl/velero/loc-0,bsl/velero/loc-1,bsl/velero/loc-2,bsl/velero/loc-3,bsl/velero/loc-4"},
		{maxAffected + 1, "bsl/velero/loc-0,bsl/velero/loc-1,bsl/velero/loc-2,bsl/velero/loc-3,and 2 more"},
		{100, "bsl/velero/loc-0,bsl/velero/loc-1,bsl/velero/loc-2,bsl/velero/loc-3,and 96 more"},
		{maxTracked + 50, fmt.Sprintf("bsl/velero/loc-0,bsl/velero/loc-1,bsl/velero/loc-2,bsl/velero/loc-3,and at least %d more", maxTracked-3)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.distinct), func(t *testing.T) {
			var lines []string
			for i := 0; i < tt.distinct; i++ {
				// Each location twice, the second time without its namespace: still one location.
				lines = append(lines,
					at("2026-11-21T02:00:00Z", fmt.Sprintf(`level=error msg="fail" backup-storage-location=velero/loc-%d error="AuthorizationPermissionMismatch"`, i)),
					at("2026-11-21T02:00:01Z", fmt.Sprintf(`level=error msg="fail" backup-storage-location=loc-%d error="AuthorizationPermissionMismatch"`, i)))
			}
			rep := analyze(t, nil, lines...)
			if got := strings.Join(rep.Findings[0].Affected, ","); got != tt.want {
				t.Errorf("affected %s\nwant     %s", got, tt.want)
			}
		})
	}
}

// TestHostileLogStaysBounded: a log of many unique location, backup and account names, errors and
// successes alike, keeps every set at its cap, counts what it dropped, and never marks a finding
// resolved on the strength of what it could not keep.
func TestHostileLogStaysBounded(t *testing.T) {
	const unique = 5000
	var b strings.Builder
	for i := 0; i < unique; i++ {
		fmt.Fprintf(&b, `time="2026-11-21T02:00:00Z" level=error msg="fail to validate backup store" backup-storage-location=ns%d/loc-%d backup=ns%d/b-%d controller=backup-storage-location error="GET https://acct%d.blob.core.windows.net/c%d\nERROR CODE: AuthorizationPermissionMismatch"`+"\n", i, i, i, i, i, i)
		fmt.Fprintf(&b, `time="2026-11-21T03:00:00Z" level=info msg="BackupStorageLocations is valid, marking as available" backup-storage-location=ns%d/ok-%d controller=backup-storage-location`+"\n", i, i)
	}
	// Every location that erred validates later: but the log names far more locations than are
	// kept, so no finding may claim they all recovered.
	for i := 0; i < unique; i++ {
		fmt.Fprintf(&b, `time="2026-11-21T04:00:00Z" level=info msg="BackupStorageLocations is valid, marking as available" backup-storage-location=ns%d/loc-%d controller=backup-storage-location`+"\n", i, i)
	}
	a := NewAnalyzer(nil)
	for i := 0; i < 3*maxSources; i++ {
		a.AddText("BackupStorageLocation \"x\" is unavailable: AuthorizationPermissionMismatch", fmt.Sprintf("bsl x%d status", i))
	}
	if err := a.Scan(strings.NewReader(b.String()), "hostile"); err != nil {
		t.Fatal(err)
	}
	if a.recovered.len() > maxTracked || a.recovered.dropped == 0 {
		t.Errorf("recovered: %d kept, %d dropped", a.recovered.len(), a.recovered.dropped)
	}
	if a.locations.len() > maxTracked || a.locations.dropped == 0 {
		t.Errorf("locations: %d kept, %d dropped", a.locations.len(), a.locations.dropped)
	}
	if len(a.sources) != maxSources || !strings.HasPrefix(a.sources[maxSources-1], "and at least ") && !strings.HasPrefix(a.sources[maxSources-1], "and ") {
		t.Errorf("sources %v", a.sources)
	}
	for id, g := range a.groups {
		if g.bslNames.len() > maxTracked || g.affectedList.seen.len() > maxTracked || len(g.affected) > maxAffected || len(g.samples) > valueSamples {
			t.Errorf("%s: %d names, %d affected seen, %d affected shown, %d samples", id, g.bslNames.len(), g.affectedList.seen.len(), len(g.affected), len(g.samples))
		}
	}
	rep := a.Report()
	if len(rep.Findings) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range rep.Findings {
		if f.Resolved {
			t.Errorf("%s resolved although most of its locations were not tracked", f.ID)
		}
		if f.ID == "blob-data-role-missing" && (len(f.Affected) != maxAffected || !strings.HasPrefix(f.Affected[maxAffected-1], "and at least ")) {
			t.Errorf("%s affected %v", f.ID, f.Affected)
		}
	}
	if !strings.Contains(rep.Source, "and ") || strings.Count(rep.Source, ",") >= maxSources {
		t.Errorf("source %q", rep.Source)
	}
}
