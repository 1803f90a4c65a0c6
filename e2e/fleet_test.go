package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/azurelab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/lab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

// fleetGraphDoc is `doctor --fleet -o json`.
type fleetGraphDoc struct {
	Kind     string `json:"kind"`
	Clusters []struct {
		Cluster  string `json:"cluster"`
		Context  string `json:"context"`
		Verdict  string `json:"verdict"`
		Summary  string `json:"summary"`
		Findings []struct {
			ID string `json:"id"`
		} `json:"findings"`
		InCluster *struct {
			Verdict    string `json:"verdict"`
			RootCauses []struct {
				ID string `json:"id"`
			} `json:"rootCauses"`
		} `json:"inCluster"`
	} `json:"clusters"`
	Healthy   int `json:"healthy"`
	Unhealthy int `json:"unhealthy"`
	Failed    int `json:"couldNotRun"`
	Queries   int `json:"resourceGraphQueries"`
}

// argDouble sets the lab Resource Graph double's page size (which resets its query counter) or,
// with pageSize < 0, reads the counter.
func argDouble(t *testing.T, l *labtest.Lab, pageSize int) azurelab.ResourceGraphStatus {
	t.Helper()
	client := labHTTPClient(t, l)
	var resp *http.Response
	var err error
	if pageSize >= 0 {
		resp, err = client.Post(l.ARMURL+"_lab/resourcegraph", "application/json", strings.NewReader(fmt.Sprintf(`{"pageSize":%d}`, pageSize)))
	} else {
		resp, err = client.Get(l.ARMURL + "_lab/resourcegraph")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st azurelab.ResourceGraphStatus
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil {
		t.Fatalf("/_lab/resourcegraph: HTTP %d", resp.StatusCode)
	}
	return st
}

// TestDoctorFleetResourceGraph runs `doctor --fleet --subscription <lab sub>` over the lab's three
// clusters (lab-aks and the extra API servers aks-lab-east and aks-lab-west, each a kubeconfig
// context named as az aks get-credentials names it). The Azure side of all three comes from one
// paged query to the lab's Resource Graph double, which counts one query per page; each cluster's
// context adds its in-cluster doctor. West's agent service account lacks its client ID, so its row
// fails in-cluster; breaking lab-aks where the query sees it (workload identity disabled, then its
// Trusted Access binding gone) adds a failing row with that root cause; a refused query is exit 2.
func TestDoctorFleetResourceGraph(t *testing.T) {
	l := labtest.Load(t)
	env := l.AzureEnv(t)
	ns := wiredDoctorNamespace(t, l, env)
	trustLabVault := func(t *testing.T) {
		t.Helper()
		if r := kubectlEnv(t, l, env, "aksbackup", "trusted-access", "create", "--vault-id", azurelab.VaultID, "--yes"); r.code != 0 {
			t.Fatalf("trusted-access create:\n%s", r)
		}
	}
	trustLabVault(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	want := map[string]string{lab.ClusterName: "HEALTHY"}
	extra, broken := installExtraClusters(ctx, t, l, ns)
	for _, name := range extra {
		want[name] = "HEALTHY"
	}
	if broken != "" {
		want[broken] = "UNHEALTHY"
	}
	if len(want) < 3 {
		t.Logf("the lab runs %d cluster(s), not 3: restart it with a current aksbackup-lab for the extra API servers", len(want))
	}
	t.Cleanup(func() { argDouble(t, l, 0) })

	fleetJSON := func(t *testing.T, pageSize int) (fleetGraphDoc, result) {
		t.Helper()
		argDouble(t, l, pageSize)
		r := kubectlEnv(t, l, env, "aksbackup", "doctor", "--fleet", "--subscription", l.Subscription, "-n", ns, "-o", "json")
		var doc fleetGraphDoc
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("doctor --fleet -o json: %v\n%s", err, r)
		}
		served := argDouble(t, l, -1).Queries
		wantPages := (len(want) + pageSize - 1) / pageSize
		if doc.Queries != wantPages || served != wantPages {
			t.Errorf("page size %d, %d clusters: the tool reports %d queries, the double served %d; want %d (one per page)", pageSize, len(want), doc.Queries, served, wantPages)
		}
		t.Logf("page size %d: %d clusters in %d Resource Graph request(s)", pageSize, len(doc.Clusters), served)
		return doc, r
	}
	check := func(t *testing.T, doc fleetGraphDoc, r result, want map[string]string, rootCause map[string]string) {
		t.Helper()
		unhealthy := 0
		for _, v := range want {
			if v != "HEALTHY" {
				unhealthy++
			}
		}
		if wantCode := map[bool]int{true: 0, false: 1}[unhealthy == 0]; r.code != wantCode {
			t.Errorf("exit %d, want %d\n%s", r.code, wantCode, r)
		}
		if len(doc.Clusters) != len(want) || doc.Unhealthy != unhealthy || doc.Healthy != len(want)-unhealthy {
			t.Fatalf("%d rows (%d healthy, %d unhealthy), want %d with %d unhealthy\n%s", len(doc.Clusters), doc.Healthy, doc.Unhealthy, len(want), unhealthy, r.stdout)
		}
		for _, row := range doc.Clusters {
			if row.Context != row.Cluster || row.InCluster == nil {
				t.Errorf("%s: joined with context %q (in-cluster report %v), want its own context", row.Cluster, row.Context, row.InCluster != nil)
			}
			if row.Verdict != want[row.Cluster] {
				t.Errorf("%s: %s (%s), want %s", row.Cluster, row.Verdict, row.Summary, want[row.Cluster])
			}
			if id := rootCause[row.Cluster]; id != "" {
				got := ""
				if len(row.Findings) > 0 {
					got = row.Findings[0].ID
				} else if row.InCluster != nil && len(row.InCluster.RootCauses) > 0 {
					got = row.InCluster.RootCauses[0].ID
				}
				if got != id {
					t.Errorf("%s: root cause %q, want %q", row.Cluster, got, id)
				}
			}
		}
	}

	t.Run("three clusters, one broken in-cluster, two pages", func(t *testing.T) {
		doc, r := fleetJSON(t, 2)
		check(t, doc, r, want, map[string]string{broken: "wi-client-id-missing"})
		doc, r = fleetJSON(t, 1)
		check(t, doc, r, want, nil)
	})

	t.Run("workload identity disabled on lab-aks", func(t *testing.T) {
		l.AzureScenario(t, "wired", ns, "workload-identity-disabled")
		trustLabVault(t)
		w := maps.Clone(want)
		w[lab.ClusterName] = "UNHEALTHY"
		doc, r := fleetJSON(t, 2)
		check(t, doc, r, w, map[string]string{lab.ClusterName: "workload-identity-disabled", broken: "wi-client-id-missing"})
		argDouble(t, l, 2)
		text := kubectlEnv(t, l, env, "aksbackup", "doctor", "--fleet", "--subscription", l.Subscription, "-n", ns)
		var failing []string
		rows, _, _ := strings.Cut(text.stdout, "\n\n")
		for _, line := range strings.Split(rows, "\n")[1:] {
			if f := strings.Fields(line); len(f) > 2 && f[len(f)-2] != "HEALTHY" {
				failing = append(failing, f[0])
			}
		}
		if text.code != 1 || len(failing) != len(w)-doc.Healthy || !strings.Contains(text.stdout, "az aks update --subscription "+l.Subscription+" --resource-group lab-rg --name lab-aks --enable-workload-identity") {
			t.Errorf("table: exit %d, failing rows %v\n%s", text.code, failing, text)
		}
	})

	t.Run("no Trusted Access binding on lab-aks", func(t *testing.T) {
		l.AzureScenario(t, "wired", ns) // a fresh scenario holds no binding
		w := maps.Clone(want)
		w[lab.ClusterName] = "UNHEALTHY"
		doc, r := fleetJSON(t, 2)
		check(t, doc, r, w, map[string]string{lab.ClusterName: "trusted-access-missing"})
	})

	t.Run("a refused query is exit 2 with what to do", func(t *testing.T) {
		l.AzureFaults(t, map[string]any{"method": "POST", "pathContains": "/providers/Microsoft.ResourceGraph/", "status": 403, "code": "AuthorizationFailed"})
		r := kubectlEnv(t, l, env, "aksbackup", "doctor", "--fleet", "--subscription", l.Subscription, "-n", ns)
		if r.code != 2 || !strings.Contains(r.stderr, "403 AuthorizationFailed") || !strings.Contains(r.stderr, "Microsoft.ResourceGraph/resources/read") {
			t.Errorf("want exit 2 naming the refused action:\n%s", r)
		}
		l.AzureFaults(t)
	})
}
