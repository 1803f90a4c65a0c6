package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
)

// commandBuilder is the constructor every read command has.
type commandBuilder func(kube.Factory, genericiooptions.IOStreams) *cobra.Command

// runInProcess runs another command of the tool with -o json and args, on the same factory, and
// returns what it printed. Findings (exit 1) are a report like any other; other failures are errors.
func runInProcess(ctx context.Context, factory kube.Factory, newCmd commandBuilder, args []string) ([]byte, error) {
	var out, errOut bytes.Buffer
	cmd := newCmd(factory, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(append(append([]string{}, args...), "-o", "json"))
	cmd.SetOut(&errOut)
	cmd.SetErr(&errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, exitcode.ErrFindings) {
		return nil, fmt.Errorf("%s: %w", cmd.Name(), err)
	}
	return out.Bytes(), nil
}

// findingsIn collects every finding of a command's JSON document, wherever the document holds them
// (top level, per location, per target).
func findingsIn(doc []byte) ([]findings.Finding, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, fmt.Errorf("reading the report: %w", err)
	}
	var out []findings.Finding
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 16 {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				if k == "findings" {
					if raw, err := json.Marshal(child); err == nil {
						var fs []findings.Finding
						if json.Unmarshal(raw, &fs) == nil {
							out = append(out, fs...)
							continue
						}
					}
				}
				walk(child, depth+1)
			}
		case []any:
			for _, child := range t {
				walk(child, depth+1)
			}
		}
	}
	walk(v, 0)
	return out, nil
}

// selectionArgs selects the resolved profile again (the namespace comes with the shared factory).
func selectionArgs(p profile.Profile) []string {
	if p.Name != profile.Custom {
		return []string{"--profile", p.Name}
	}
	var args []string
	for _, pair := range p.Pairs {
		args = append(args, "--service-account", pair.ServiceAccount, "--workload", pair.Workload.Ref())
	}
	return args
}

// notForwarded are the flags whose meaning selectionArgs carries, or that each command sets itself.
var notForwarded = map[string]bool{"profile": true, "service-account": true, "deployment": true, "workload": true, "timeout": true, "since": true, "output": true}

// forwardedFlags renders the flags the user set on from that to also exists on, so a report reaches
// the same cluster and Azure.
func forwardedFlags(from, to *cobra.Command) []string {
	var args []string
	from.Flags().Visit(func(f *pflag.Flag) {
		if to.Flags().Lookup(f.Name) == nil || notForwarded[f.Name] {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+f.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+f.Name+"="+f.Value.String())
	})
	return args
}
