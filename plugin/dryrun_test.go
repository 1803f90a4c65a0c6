package plugin

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestDryRunFlag: --dry-run is kubectl's flag (cmdutil), read by kubectl's strategy parser.
func TestDryRunFlag(t *testing.T) {
	tests := []struct {
		args []string
		want dryRunMode
		err  string
	}{
		{nil, dryRunNone, ""},
		{[]string{"--dry-run"}, dryRunClient, ""},
		{[]string{"--dry-run=client"}, dryRunClient, ""},
		{[]string{"--dry-run=server"}, dryRunServer, ""},
		{[]string{"--dry-run=none"}, dryRunNone, ""},
		{[]string{"--dry-run=true"}, dryRunClient, ""},
		{[]string{"--dry-run=false"}, dryRunNone, ""},
		{[]string{"--dry-run=serve"}, "", `invalid --dry-run "serve": must be "none", "client", or "server"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var value string
			cmd := &cobra.Command{Use: "x"}
			addDryRunFlag(cmd, &value)
			if err := cmd.ParseFlags(tt.args); err != nil {
				t.Fatal(err)
			}
			got, err := parseDryRun(value)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestBadDryRunIsBadInput(t *testing.T) {
	_, _, err := run(t, &fakeFactory{client: unwiredCluster(true)}, "", "restart", "--dry-run=maybe")
	if err == nil || !strings.Contains(err.Error(), `invalid --dry-run "maybe"`) {
		t.Fatalf("err = %v", err)
	}
	expectRun(t, "", "", err, 2, nil, nil)
}
