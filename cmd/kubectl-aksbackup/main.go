// Command kubectl-aksbackup is the kubectl plugin: `kubectl aksbackup ...`.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // exec, OIDC and Azure (kubelogin) kubeconfigs

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/plugin"
)

func main() {
	args := os.Args[1:]
	// kubectl calls kubectl_complete-aksbackup for plugin completion; the same binary serves it.
	if strings.HasPrefix(filepath.Base(os.Args[0]), "kubectl_complete-") {
		args = append([]string{"__complete"}, args...)
	}
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	cmd := plugin.NewRootCommand(streams)
	cmd.SetArgs(args)
	err := plugin.Execute(cmd)
	if err != nil && !exitcode.Silent(err) {
		fmt.Fprint(os.Stderr, output.ErrorLine(err))
	}
	os.Exit(exitcode.Code(err))
}
