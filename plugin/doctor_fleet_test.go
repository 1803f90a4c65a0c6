package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/exitcode"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/fleet"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/trustedaccess"
)

const (
	fleetSubA  = "00000000-0000-0000-0000-0000000000a1"
	fleetSubB  = "00000000-0000-0000-0000-0000000000b2"
	fleetVault = "/subscriptions/" + fleetSubA + "/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/vault"
)

// healthyFleetCluster is a cluster whose Azure side is ready for AKS Backup; shape breaks one thing.
func healthyFleetCluster(sub, rg, name string, shape func(*azure.FleetCluster)) azure.FleetCluster {
	c := azure.FleetCluster{ID: fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s", sub, rg, name),
		Name: name, ResourceGroup: rg, SubscriptionID: sub, OIDCIssuerEnabled: true, OIDCIssuerURL: "https://issuer/" + name + "/", WorkloadIdentityEnabled: true,
		BackupExtensions:      []azure.FleetExtension{{Name: "azure-aks-backup", ProvisioningState: "Succeeded"}},
		TrustedAccessBindings: []azure.TrustedAccessBinding{{Name: "bv-vault", SourceResourceID: fleetVault, Roles: []string{trustedaccess.BackupOperatorRole}}}}
	if shape != nil {
		shape(&c)
	}
	return c
}

type fleetGraphDoc struct {
	Clusters []struct {
		Cluster   string                `json:"cluster"`
		Context   string                `json:"context"`
		Verdict   string                `json:"verdict"`
		Findings  []struct{ ID string } `json:"findings"`
		InCluster *struct {
			Verdict string `json:"verdict"`
			Context string `json:"context"`
		} `json:"inCluster"`
	} `json:"clusters"`
	Healthy   int `json:"healthy"`
	Unhealthy int `json:"unhealthy"`
	Failed    int `json:"couldNotRun"`
	Queries   int `json:"resourceGraphQueries"`
}

// runFleetGraph runs doctor --fleet against the Resource Graph fake, with the kubeconfig's contexts
// and a fake cluster per context.
func runFleetGraph(t *testing.T, graph *azurefake.ResourceGraph, contexts []fleet.Context, clusters map[string]*fakeFactory, args ...string) (string, string, error) {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	root := NewRootCommand(streams)
	savedGraph, savedContexts, savedFactories := newResourceGraph, kubeconfigAKSContexts, contextFactories
	t.Cleanup(func() {
		newResourceGraph, kubeconfigAKSContexts, contextFactories = savedGraph, savedContexts, savedFactories
	})
	newResourceGraph = func(f *azureFlags) (fleetQuerier, error) {
		cloud, err := azure.ResolveCloud(f.Cloud, f.CloudConfig)
		if err != nil {
			return nil, err
		}
		return azure.NewResourceGraph(azure.Options{Cloud: cloud, Credential: &azfake.TokenCredential{}, Transport: graph.Transport(), Retry: policy.RetryOptions{MaxRetries: -1}})
	}
	kubeconfigAKSContexts = func() ([]fleet.Context, error) { return contexts, nil }
	contextFactories = func(name string) kube.Factory {
		if f, ok := clusters[name]; ok {
			return f
		}
		return &fakeFactory{client: unwiredCluster(true), serverErr: errors.New("no fake cluster for context " + name)}
	}
	root.ResetCommands()
	root.AddCommand(NewDoctorCommand(&fakeFactory{client: unwiredCluster(true)}, streams))
	root.SetArgs(append([]string{"doctor", "--fleet"}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	root.SetContext(ctx)
	err := Execute(root)
	return out.String(), errOut.String(), err
}

// TestDoctorFleetResourceGraphShapes: each cluster shape gives its finding IDs through the catalog,
// across pages of the one query (one request per page), and the fleet exits 1.
func TestDoctorFleetResourceGraphShapes(t *testing.T) {
	shapes := []struct {
		name    string
		shape   func(*azure.FleetCluster)
		wantIDs []string
	}{
		{name: "healthy"},
		{name: "oidc-off", shape: func(c *azure.FleetCluster) { c.OIDCIssuerEnabled, c.OIDCIssuerURL = false, "" }, wantIDs: []string{"oidc-issuer-disabled"}},
		{name: "wi-off", shape: func(c *azure.FleetCluster) { c.WorkloadIdentityEnabled = false }, wantIDs: []string{"workload-identity-disabled"}},
		{name: "both-off", shape: func(c *azure.FleetCluster) { c.OIDCIssuerEnabled, c.WorkloadIdentityEnabled = false, false },
			wantIDs: []string{"oidc-issuer-disabled", "workload-identity-disabled"}},
		{name: "no-extension", shape: func(c *azure.FleetCluster) { c.BackupExtensions = nil }, wantIDs: []string{"extension-missing"}},
		{name: "extension-failed", shape: func(c *azure.FleetCluster) { c.BackupExtensions[0].ProvisioningState = "Failed" }, wantIDs: []string{"extension-not-succeeded"}},
		{name: "no-binding", shape: func(c *azure.FleetCluster) { c.TrustedAccessBindings = nil }, wantIDs: []string{"trusted-access-missing"}},
		{name: "other-service-binding", shape: func(c *azure.FleetCluster) {
			c.TrustedAccessBindings = []azure.TrustedAccessBinding{{Name: "ml", SourceResourceID: "/subscriptions/x/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w", Roles: []string{"Microsoft.MachineLearningServices/workspaces/mlworkload"}}}
		}, wantIDs: []string{"trusted-access-missing"}},
		{name: "binding-wrong-role", shape: func(c *azure.FleetCluster) {
			c.TrustedAccessBindings[0].Roles = []string{"Microsoft.DataProtection/backupVaults/reader"}
		},
			wantIDs: []string{"trusted-access-role-wrong"}},
	}
	graph := &azurefake.ResourceGraph{PageSize: 4}
	want := map[string][]string{}
	for i, s := range shapes {
		sub := fleetSubA
		if i%2 == 1 {
			sub = fleetSubB
		}
		graph.Clusters = append(graph.Clusters, healthyFleetCluster(sub, "rg", s.name, s.shape))
		want[s.name] = s.wantIDs
	}
	out, _, err := runFleetGraph(t, graph, nil, nil, "--subscription", fleetSubA, "--subscription", fleetSubB, "-o", "json")
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("exit %d (%v), want 1\n%s", exitcode.Code(err), err, out)
	}
	var doc fleetGraphDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	// 9 clusters, 4 a page: 3 pages, the second and third by skip token, one request each.
	if doc.Queries != 3 || graph.RequestCount() != 3 {
		t.Errorf("%d queries reported, %d requests served, want 3 and 3", doc.Queries, graph.RequestCount())
	}
	if len(doc.Clusters) != len(shapes) || doc.Healthy != 1 || doc.Unhealthy != len(shapes)-1 {
		t.Fatalf("rows %d, healthy %d, unhealthy %d", len(doc.Clusters), doc.Healthy, doc.Unhealthy)
	}
	for _, row := range doc.Clusters {
		var ids []string
		for _, f := range row.Findings {
			ids = append(ids, f.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, want[row.Cluster]) {
			t.Errorf("%s: findings %v, want %v", row.Cluster, ids, want[row.Cluster])
		}
		if wantVerdict := map[bool]string{true: "HEALTHY", false: "UNHEALTHY"}[len(want[row.Cluster]) == 0]; row.Verdict != wantVerdict {
			t.Errorf("%s: verdict %s, want %s", row.Cluster, row.Verdict, wantVerdict)
		}
		if row.Context != "" || row.InCluster != nil {
			t.Errorf("%s: joined with context %q without any context", row.Cluster, row.Context)
		}
	}

	text, _, err := runFleetGraph(t, graph, nil, nil, "--subscription", fleetSubA+","+fleetSubB)
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("table: exit %d", exitcode.Code(err))
	}
	for _, want := range []string{"CLUSTER", "TRUSTED ACCESS", "oidc-issuer-disabled", "az aks update --subscription " + fleetSubB + " --resource-group rg --name oidc-off --enable-oidc-issuer",
		"9 cluster(s) in 2 subscription(s): 1 healthy, 8 unhealthy, 0 could not run (3 Azure Resource Graph request(s))"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
}

// TestDoctorFleetResourceGraphJoinsContexts: a cluster with a kubeconfig context gets that context's
// in-cluster doctor (its Azure half skipped, so no ARM request per cluster); one without stays
// Azure-only; an unreachable context makes its row could-not-run; only the healthy fleet exits 0.
func TestDoctorFleetResourceGraphJoinsContexts(t *testing.T) {
	byUser := healthyFleetCluster(fleetSubA, "rg-1", "prod", nil)
	byName := healthyFleetCluster(fleetSubA, "rg-2", "stage", nil)
	lonely := healthyFleetCluster(fleetSubA, "rg-3", "dev", nil)
	// Two clusters named "twin": a context named twin cannot tell which one it is, so neither joins.
	twin1, twin2 := healthyFleetCluster(fleetSubA, "rg-4", "twin", nil), healthyFleetCluster(fleetSubA, "rg-5", "twin", nil)
	graph := &azurefake.ResourceGraph{Clusters: []azure.FleetCluster{byUser, byName, lonely, twin1, twin2}}
	contexts := []fleet.Context{{Name: "prod-admin", ResourceGroup: "rg-1", Cluster: "prod"}, {Name: "stage"}, {Name: "twin"}, {Name: "unrelated"}}
	down := &fakeFactory{client: unwiredCluster(true), dyn: dynamicWith(t), serverErr: errors.New("dial tcp 10.0.0.1:443: connect: connection refused")}
	// prod's kubeconfig names its AKS cluster, so an in-cluster doctor would read ARM for it unless
	// told not to: the query's row is its Azure half.
	clusters := map[string]*fakeFactory{"prod-admin": {client: unwiredCluster(true), dyn: dynamicWith(t), rg: "rg-1", cluster: "prod"}, "stage": down}
	savedClient := newAzureClient
	t.Cleanup(func() { newAzureClient = savedClient })
	armClients := 0
	newAzureClient = func(*azureFlags) (azure.Client, error) {
		armClients++
		return nil, errors.New("the fleet's in-cluster doctor built an ARM client")
	}

	before := azure.RequestsSent()
	out, _, err := runFleetGraph(t, graph, contexts, clusters, "--subscription", fleetSubA, "-o", "json")
	if exitcode.Code(err) != exitcode.Findings {
		t.Fatalf("exit %d (%v), want 1", exitcode.Code(err), err)
	}
	if sent := azure.RequestsSent() - before; sent != 1 || armClients != 0 {
		t.Errorf("%d ARM requests and %d ARM clients, want the one Resource Graph query", sent, armClients)
	}
	var doc fleetGraphDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, row := range doc.Clusters {
		inCluster := "-"
		if row.InCluster != nil {
			inCluster = row.InCluster.Verdict
		}
		got[row.Cluster+"@"+row.Context] += row.Verdict + "/" + inCluster + " "
	}
	wantRows := map[string]string{
		"prod@prod-admin": "UNHEALTHY/UNHEALTHY ", // the unwired fake cluster: in-cluster findings
		"stage@stage":     "COULD-NOT-RUN/COULD-NOT-RUN ",
		"dev@":            "HEALTHY/- ",
		"twin@":           "HEALTHY/- HEALTHY/- ",
	}
	for k, v := range wantRows {
		if got[k] != v {
			t.Errorf("row %s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if doc.Healthy != 3 || doc.Unhealthy != 1 || doc.Failed != 1 {
		t.Errorf("counts %d/%d/%d", doc.Healthy, doc.Unhealthy, doc.Failed)
	}

	// --contexts limits the join: without stage's context, stage is Azure-only and healthy.
	out, _, err = runFleetGraph(t, graph, contexts, clusters, "--subscription", fleetSubA, "--contexts", "prod-admin", "-o", "json")
	if exitcode.Code(err) != exitcode.Findings || !strings.Contains(out, `"context": "prod-admin"`) || strings.Contains(out, `"context": "stage"`) {
		t.Errorf("--contexts prod-admin: exit %d\n%s", exitcode.Code(err), out)
	}
	healthyOnly := &azurefake.ResourceGraph{Clusters: []azure.FleetCluster{lonely}}
	if _, _, err := runFleetGraph(t, healthyOnly, contexts, clusters, "--subscription", fleetSubA); err != nil {
		t.Errorf("a healthy fleet: %v", err)
	}
}

// TestDoctorFleetResourceGraphCannotRun: a refused query or bad input is exit 2 with what to do, and
// bad input sends nothing.
func TestDoctorFleetResourceGraphCannotRun(t *testing.T) {
	tests := []struct {
		name         string
		graph        *azurefake.ResourceGraph
		args         []string
		wantErr      []string
		wantRequests int
	}{
		{name: "authorization failed", graph: &azurefake.ResourceGraph{ErrorStatus: http.StatusForbidden, ErrorCode: "AuthorizationFailed"},
			args: []string{"--subscription", fleetSubA}, wantErr: []string{"doctor --fleet could not run", "403 AuthorizationFailed", "Microsoft.ResourceGraph/resources/read", "ask an Owner"}, wantRequests: 1},
		{name: "throttled", graph: &azurefake.ResourceGraph{ErrorStatus: http.StatusTooManyRequests, ErrorCode: "RateLimiting"},
			args: []string{"--subscription", fleetSubA}, wantErr: []string{"throttling", "rerun"}, wantRequests: 1},
		{name: "not a subscription ID", graph: &azurefake.ResourceGraph{}, args: []string{"--subscription", "prod"}, wantErr: []string{`"prod" is not a subscription ID`}},
		{name: "with --fix", graph: &azurefake.ResourceGraph{}, args: []string{"--subscription", fleetSubA, "--fix"}, wantErr: []string{"--fix works on one cluster"}},
		{name: "with --cluster-id", graph: &azurefake.ResourceGraph{}, args: []string{"--subscription", fleetSubA, "--cluster-id", healthyFleetCluster(fleetSubA, "rg", "a", nil).ID},
			wantErr: []string{"--fleet checks every cluster"}},
		{name: "-o wide", graph: &azurefake.ResourceGraph{}, args: []string{"--subscription", fleetSubA, "-o", "wide"}, wantErr: []string{"-o takes json, yaml, jsonpath or go-template"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AZURE_SUBSCRIPTION_ID", "")
			_, _, err := runFleetGraph(t, tc.graph, nil, nil, tc.args...)
			if exitcode.Code(err) != exitcode.InvalidInput {
				t.Fatalf("exit %d (%v), want 2", exitcode.Code(err), err)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if tc.graph.RequestCount() != tc.wantRequests {
				t.Errorf("%d requests, want %d", tc.graph.RequestCount(), tc.wantRequests)
			}
		})
	}
}
