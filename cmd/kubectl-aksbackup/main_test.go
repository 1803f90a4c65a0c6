package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/plugin"
)

func TestExitCodes(t *testing.T) {
	panics := func(genericiooptions.IOStreams) *cobra.Command {
		return &cobra.Command{Use: "kubectl-aksbackup", RunE: func(*cobra.Command, []string) error { panic("nil map") }}
	}
	tests := []struct {
		name    string
		argv    []string
		newRoot func(genericiooptions.IOStreams) *cobra.Command
		code    int
		stderr  string
		stdout  string
	}{
		{"version", []string{"kubectl-aksbackup", "version"}, plugin.NewRootCommand, exitcode.OK, "", "kubectl-aksbackup v"},
		{"unknown command", []string{"kubectl-aksbackup", "bogus"}, plugin.NewRootCommand, exitcode.InvalidInput, `error: unknown command "bogus" for "kubectl aksbackup"`, ""},
		{"unknown verb in a group", []string{"kubectl-aksbackup", "identity", "bogus"}, plugin.NewRootCommand, exitcode.InvalidInput, `error: unknown command "bogus" for "kubectl aksbackup identity"`, ""},
		{"completion entry point", []string{"/usr/local/bin/kubectl_complete-aksbackup", "ident"}, plugin.NewRootCommand, exitcode.OK, "", "identity"},
		{"a panic is a runtime failure, not bad input", []string{"kubectl-aksbackup"}, panics, exitcode.Failed, "error: internal error (a bug; please report it with this output): nil map", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			if code := run(tc.argv, streams, tc.newRoot); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			if !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errOut)
			}
			if !strings.Contains(out.String(), tc.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdout, out)
			}
		})
	}
}
