package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/version"
)

// Exit codes: 0 the probe passed, 1 a step failed (the result says which), 2 bad arguments.
const (
	exitOK      = 0
	exitFailed  = 1
	exitInvalid = 2
)

// run is the verifier's command line: `version`, or `probe` with the target as flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "version" || args[0] == "--version" {
		v := version.Get()
		fmt.Fprintf(stdout, "aksbackup-verifier %s (commit %s, built %s, %s)\n", v.Version, v.Commit, v.BuildDate, v.Platform)
		return exitOK
	}
	if args[0] != "probe" {
		fmt.Fprintf(stderr, "error: unknown command %q: use probe or version\n", args[0])
		return exitInvalid
	}
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var a probe.VerifierArgs
	var useAAD bool
	var terminationLog string
	var timeout time.Duration
	fs.StringVar(&a.RunID, "run-id", "", "the probe run's ID (names the blob)")
	fs.StringVar(&a.Target.BSL, "bsl", "", "the BackupStorageLocation's name, for the report")
	fs.StringVar(&a.Target.Container, "container", "", "blob container (the BSL's bucket)")
	fs.StringVar(&a.Target.Prefix, "prefix", "", "the BSL's prefix")
	fs.StringVar(&a.Target.Account, "storage-account", "", "storage account name")
	fs.StringVar(&a.Target.ServiceURL, "service-url", "", "blob service URL")
	fs.BoolVar(&useAAD, "use-aad", true, "authenticate with the pod's Entra token (false: list the account keys as Velero does)")
	fs.StringVar(&a.Target.ResourceGroup, "resource-group", "", "the account's resource group (key auth)")
	fs.StringVar(&a.Target.Subscription, "subscription", "", "the account's subscription (key auth)")
	fs.StringVar(&a.AuthorityHost, "authority-host", "", "Entra authority (default $AZURE_AUTHORITY_HOST)")
	fs.StringVar(&a.ResourceManager.Endpoint, "arm-endpoint", cloud.AzurePublic.Services[cloud.ResourceManager].Endpoint, "ARM endpoint (key auth)")
	fs.StringVar(&a.ResourceManager.Audience, "arm-audience", cloud.AzurePublic.Services[cloud.ResourceManager].Audience, "ARM token audience (key auth)")
	fs.StringVar(&a.CABundleDir, "ca-bundle-dir", "", "directory of extra PEM CA bundles to trust")
	fs.BoolVar(&a.NoNetwork, "no-network-checks", false, "skip the DNS, TCP and TLS checks")
	fs.StringVar(&terminationLog, "termination-log", "/dev/termination-log", "where to write the compact JSON result")
	fs.DurationVar(&timeout, "timeout", 2*time.Minute, "bound on the whole probe")
	if err := fs.Parse(args[1:]); err != nil {
		return exitInvalid
	}
	a.Target.UseAAD = useAAD
	if a.RunID == "" || a.Target.Container == "" || a.Target.ServiceURL == "" {
		fmt.Fprintln(stderr, "error: --run-id, --container and --service-url are required (kubectl aksbackup probe passes them)")
		return exitInvalid
	}
	a.Target.Prefix = probe.RootPrefix(a.Target.Prefix)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := probe.Verify(ctx, a, getenv, time.Now)
	if err := os.WriteFile(terminationLog, probe.TerminationMessage(res), 0o644); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "warning: writing %s: %v\n", terminationLog, err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(res)
	if !res.OK {
		return exitFailed
	}
	return exitOK
}
