// Command kubectl-aksbackup is the kubectl plugin: `kubectl aksbackup ...`.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // exec, OIDC and Azure (kubelogin) kubeconfigs

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/plugin"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(run(os.Args, streams, plugin.NewRootCommand))
}

// run executes the command tree and returns the exit code the README documents. A panic is a bug
// that may have struck halfway through a change, so it is exit 3 ("failed while running; the
// output says what changed"), never Go's own exit 2, which would read as "bad input, nothing changed".
func run(argv []string, streams genericiooptions.IOStreams, newRoot func(genericiooptions.IOStreams) *cobra.Command) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(streams.ErrOut, "error: internal error (a bug; please report it with this output): %v\n%s", r, debug.Stack())
			code = exitcode.Failed
		}
	}()
	args := argv[1:]
	// kubectl calls kubectl_complete-aksbackup for plugin completion; the same binary serves it.
	if strings.HasPrefix(filepath.Base(argv[0]), "kubectl_complete-") {
		args = append([]string{"__complete"}, args...)
	}
	cmd := newRoot(streams)
	cmd.SetArgs(args)
	err := plugin.Execute(cmd)
	if err != nil && !exitcode.Silent(err) {
		fmt.Fprintf(streams.ErrOut, "error: %v\n", err)
	}
	return exitcode.Code(err)
}
