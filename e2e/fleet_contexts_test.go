package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/lab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

// fleetDoc is `doctor --contexts ... -o json`.
type fleetDoc struct {
	Kind     string `json:"kind"`
	Clusters []struct {
		Context    string `json:"context"`
		Verdict    string `json:"verdict"`
		Summary    string `json:"summary"`
		RootCauses []struct {
			ID string `json:"id"`
		} `json:"rootCauses"`
		Checks []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Detail string `json:"detail"`
		} `json:"checks"`
	} `json:"clusters"`
	Healthy     int `json:"healthy"`
	Unhealthy   int `json:"unhealthy"`
	CouldNotRun int `json:"couldNotRun"`
}

// TestDoctorFleetThreeContexts runs doctor over three lab clusters, each its own API server and
// kubeconfig context: the main lab (a wired fixture namespace), aks-lab-east (the same namespace,
// wired) and aks-lab-west (the same namespace, its agent service account without a client ID). One
// summary row fails, west's, with that root cause; the exit is 1; -o json holds three clusters.
//
// The verdicts are in-cluster ones (--no-azure), and the JSON says so: the ARM double models the
// Azure side (extension, identity, federated credentials) of lab-aks only, so an Azure half for east
// and west would fail on the double's gaps (cluster-not-found), not on the clusters. Each cluster's
// Azure checks must therefore report skipped, never ok.
func TestDoctorFleetThreeContexts(t *testing.T) {
	l := labtest.Load(t)
	if len(l.ExtraClusters) < 2 {
		t.Fatalf("the lab in %s runs no extra clusters (booted by an older aksbackup-lab): make lab-build, then restart the lab", l.Dir)
	}
	env := l.AzureEnv(t)
	ns := wiredDoctorNamespace(t, l, env)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	extra, broken := installExtraClusters(ctx, t, l, ns)
	contexts := append([]string{lab.ClusterName}, extra...)
	if broken == "" {
		t.Fatal("no extra cluster carries a fault")
	}

	t.Run("each context is its own API server and issuer", func(t *testing.T) {
		issuers := map[string]string{}
		for _, name := range contexts {
			r := kubectlEnv(t, l, env, "--context", name, "get", "--raw", "/.well-known/openid-configuration")
			var doc struct {
				Issuer string `json:"issuer"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Issuer == "" {
				t.Fatalf("%s: OIDC discovery: %v\n%s", name, err, r)
			}
			if other, dup := issuers[doc.Issuer]; dup {
				t.Fatalf("%s and %s share issuer %s", name, other, doc.Issuer)
			}
			issuers[doc.Issuer] = name
		}
	})

	args := []string{"aksbackup", "doctor", "-n", ns, "--no-azure", "--contexts", strings.Join(contexts, ",")}
	t.Run("json", func(t *testing.T) {
		r := kubectlEnv(t, l, env, append(args, "-o", "json")...)
		var fleet fleetDoc
		if err := json.Unmarshal([]byte(r.stdout), &fleet); err != nil {
			t.Fatalf("doctor -o json does not parse: %v\n%s", err, r)
		}
		if r.code != 1 {
			t.Fatalf("exit %d, want 1 (one cluster has findings)\n%s", r.code, r)
		}
		if fleet.Kind != "DoctorFleetReport" || len(fleet.Clusters) != 3 || fleet.Healthy != 2 || fleet.Unhealthy != 1 || fleet.CouldNotRun != 0 {
			t.Fatalf("fleet: kind %s, %d clusters, %d healthy, %d unhealthy, %d could not run; want 3, 2, 1, 0\n%s",
				fleet.Kind, len(fleet.Clusters), fleet.Healthy, fleet.Unhealthy, fleet.CouldNotRun, r.stdout)
		}
		servers := map[string]string{lab.ClusterName: l.APIServerURL}
		for _, c := range l.ExtraClusters {
			servers[c.Name] = c.APIServerURL
		}
		for i, c := range fleet.Clusters {
			if c.Context != contexts[i] {
				t.Errorf("row %d is %s, want %s", i, c.Context, contexts[i])
			}
			want := "HEALTHY"
			if c.Context == broken {
				want = "UNHEALTHY"
				if len(c.RootCauses) == 0 || c.RootCauses[0].ID != "wi-client-id-missing" {
					t.Errorf("%s: root causes %+v, want wi-client-id-missing first", c.Context, c.RootCauses)
				}
			}
			if c.Verdict != want {
				t.Errorf("%s: verdict %s (%s), want %s", c.Context, c.Verdict, c.Summary, want)
			}
			for _, ch := range c.Checks {
				switch ch.ID {
				case "kube-api":
					if ch.Detail != servers[c.Context] {
						t.Errorf("%s: doctor checked %s, want its own API server %s", c.Context, ch.Detail, servers[c.Context])
					}
				case "aks-cluster", "managed-identity":
					if ch.Status != "skipped" {
						t.Errorf("%s: %s is %s with --no-azure, want skipped", c.Context, ch.ID, ch.Status)
					}
				case "workload-identity", "backup-storage-locations":
					if c.Context != broken && ch.Status != "ok" {
						t.Errorf("%s: %s is %s (%s), want ok", c.Context, ch.ID, ch.Status, ch.Detail)
					}
				}
			}
		}
	})

	t.Run("table", func(t *testing.T) {
		r := kubectlEnv(t, l, env, args...)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", r.code, r)
		}
		var failing []string
		rows, _, _ := strings.Cut(r.stdout, "\n\n")
		for _, line := range strings.Split(rows, "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[1] != "HEALTHY" && f[1] != "VERDICT" {
				failing = append(failing, line)
			}
		}
		if len(failing) != 1 || !strings.HasPrefix(failing[0], broken+" ") || !strings.Contains(failing[0], "wi-client-id-missing") {
			t.Fatalf("want exactly one failing row, %s with wi-client-id-missing; got %q\n%s", broken, failing, r.stdout)
		}
		if !strings.Contains(r.stdout, "3 cluster(s): 2 healthy, 1 unhealthy, 0 could not run.") {
			t.Fatalf("summary line missing:\n%s", r.stdout)
		}
	})
}

// installExtraClusters writes the namespace ns, finished, on each of the lab's extra clusters (removed
// when the test ends), and names them and the one that carries a fault.
func installExtraClusters(ctx context.Context, t *testing.T, l *labtest.Lab, ns string) (names []string, broken string) {
	t.Helper()
	for _, c := range l.ExtraClusters {
		if err := lab.InstallExtraNamespace(ctx, l.State, c, ns, 0); err != nil {
			t.Fatalf("fixture on %s: %v", c.Name, err)
		}
		t.Cleanup(func() {
			if cfg, err := l.ExtraRESTConfig(c.Name); err == nil {
				_ = fixture.DeleteSimulated(context.Background(), cfg, ns)
			}
		})
		names = append(names, c.Name)
		if c.Fault != "" {
			broken = c.Name
		}
	}
	return names, broken
}
