// Command lab-podgen writes (or deletes) a wired AKS Backup namespace with many pods on one of the
// lab's extra clusters, for the doctor scale benchmark: the extension's service accounts,
// deployments and BSL, and --pods pods in all, all but two of them replicas of the Velero
// deployment, Running and Ready as the workload identity webhook would have left them. The extra
// clusters run no scheduler or node, so the pods cost only their API objects.
//
//	lab-podgen --dir LAB --context aks-lab-east --namespace bench-doctor-scale --pods 2000
//	lab-podgen --dir LAB --context aks-lab-east --namespace bench-doctor-scale --delete
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/lab"
)

func main() {
	dir := flag.String("dir", os.Getenv("AKSBACKUP_LAB_DIR"), "lab directory")
	clusterName := flag.String("context", lab.EastCluster, "extra cluster (kubeconfig context) to write to")
	ns := flag.String("namespace", "bench-doctor-scale", "namespace")
	pods := flag.Int("pods", 2000, "pods in the namespace")
	del := flag.Bool("delete", false, "delete the namespace instead")
	flag.Parse()
	if err := run(*dir, *clusterName, *ns, *pods, *del); err != nil {
		fmt.Fprintln(os.Stderr, "lab-podgen:", err)
		os.Exit(1)
	}
}

func run(dir, name, ns string, pods int, del bool) error {
	s, err := lab.Load(dir)
	if err != nil {
		return err
	}
	var cluster *lab.ExtraCluster
	for i := range s.ExtraClusters {
		if s.ExtraClusters[i].Name == name {
			cluster = &s.ExtraClusters[i]
		}
	}
	if cluster == nil {
		return fmt.Errorf("the lab in %s has no extra cluster %q (it runs %d): restart it with the current aksbackup-lab", dir, name, len(s.ExtraClusters))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	if del {
		cfg, err := s.ExtraRESTConfig(name)
		if err != nil {
			return err
		}
		if err := fixture.DeleteSimulated(ctx, cfg, ns); err != nil {
			return err
		}
		fmt.Printf("deleted namespace %s on %s in %s\n", ns, name, time.Since(start).Round(time.Millisecond))
		return nil
	}
	// The three components have a pod each; the rest are more Velero replicas.
	extra := pods - len(fixture.Components)
	if extra < 0 {
		return fmt.Errorf("--pods must be at least %d (one per component), got %d", len(fixture.Components), pods)
	}
	if err := lab.InstallExtraNamespace(ctx, s, *cluster, ns, extra); err != nil {
		return err
	}
	fmt.Printf("wrote namespace %s on %s with %d pods in %s\n", ns, name, pods, time.Since(start).Round(time.Millisecond))
	return nil
}
