package azure_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure/azurefake"
)

const (
	fleetSub  = "00000000-0000-0000-0000-00000000000a"
	otherSub  = "00000000-0000-0000-0000-00000000000b"
	unseenSub = "00000000-0000-0000-0000-00000000000c"
)

func fleetCluster(sub, name string) azure.FleetCluster {
	return azure.FleetCluster{ID: fmt.Sprintf("/subscriptions/%s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/%s", sub, name),
		Name: name, ResourceGroup: "rg", SubscriptionID: sub, OIDCIssuerEnabled: true, WorkloadIdentityEnabled: true,
		BackupExtensions: []azure.FleetExtension{{Name: "azure-aks-backup", ProvisioningState: "Succeeded"}}}
}

func newGraph(t *testing.T, g *azurefake.ResourceGraph, pageSize int32) *azure.ResourceGraph {
	t.Helper()
	cloud, err := azure.ResolveCloud("AzurePublic", "")
	if err != nil {
		t.Fatal(err)
	}
	rg, err := azure.NewResourceGraph(azure.Options{Cloud: cloud, Credential: &azfake.TokenCredential{}, Transport: g.Transport(),
		Retry: policy.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	rg.PageSize = pageSize
	return rg
}

func TestFleetQueryPagesWithOneRequestPerPage(t *testing.T) {
	three := []azure.FleetCluster{fleetCluster(fleetSub, "c"), fleetCluster(fleetSub, "a"), fleetCluster(otherSub, "b")}
	tests := []struct {
		name          string
		clusters      []azure.FleetCluster
		subscriptions []string
		serverPage    int
		pageSize      int32
		wantNames     []string
		wantRequests  int
	}{
		{name: "one page", clusters: three, subscriptions: []string{fleetSub, otherSub}, wantNames: []string{"a", "c", "b"}, wantRequests: 1},
		{name: "two pages, the second by skip token", clusters: three, subscriptions: []string{fleetSub, otherSub}, serverPage: 2, wantNames: []string{"a", "c", "b"}, wantRequests: 2},
		{name: "the page size the tool asks for", clusters: three, subscriptions: []string{fleetSub, otherSub}, pageSize: 1, wantNames: []string{"a", "c", "b"}, wantRequests: 3},
		{name: "only the subscriptions asked for", clusters: three, subscriptions: []string{otherSub}, wantNames: []string{"b"}, wantRequests: 1},
		{name: "no cluster", clusters: three, subscriptions: []string{unseenSub}, wantRequests: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &azurefake.ResourceGraph{Clusters: tc.clusters, PageSize: tc.serverPage}
			before := azure.RequestsSent()
			res, err := newGraph(t, fake, tc.pageSize).Fleet(context.Background(), tc.subscriptions)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range res.Clusters {
				names = append(names, c.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.wantNames, ",") {
				t.Errorf("clusters %v, want %v", names, tc.wantNames)
			}
			if res.Pages != tc.wantRequests || fake.RequestCount() != tc.wantRequests {
				t.Errorf("pages %d, server saw %d requests, want %d", res.Pages, fake.RequestCount(), tc.wantRequests)
			}
			if sent := azure.RequestsSent() - before; sent != int64(tc.wantRequests) {
				t.Errorf("the request counter saw %d, want %d", sent, tc.wantRequests)
			}
			for i, q := range fake.Requests {
				if !strings.HasPrefix(*q.Query, azure.FleetQueryMarker) || len(q.Subscriptions) != len(tc.subscriptions) {
					t.Errorf("request %d: query or subscriptions differ: %v", i+1, q.Subscriptions)
				}
				if (i == 0) != (q.Options.SkipToken == nil) {
					t.Errorf("request %d: skip token %v", i+1, q.Options.SkipToken)
				}
			}
		})
	}
}

func TestFleetQueryErrors(t *testing.T) {
	tests := []struct {
		name          string
		subscriptions []string
		status        int
		code          string
		wantErr       []string
		wantPerm      bool
		wantRequests  int
		stuck         bool
	}{
		{name: "authorization failed", subscriptions: []string{fleetSub}, status: http.StatusForbidden, code: "AuthorizationFailed",
			wantErr: []string{"403 AuthorizationFailed", "Microsoft.ResourceGraph/resources/read", "/subscriptions/" + fleetSub, "--azure-credential"}, wantPerm: true, wantRequests: 1},
		{name: "bad request", subscriptions: []string{fleetSub}, status: http.StatusBadRequest, code: "BadRequest", wantErr: []string{"query Azure Resource Graph", "BadRequest"}, wantRequests: 1},
		{name: "a server that pages forever", subscriptions: []string{fleetSub}, stuck: true, wantErr: []string{"kept paging", "repeats a skip token"}, wantRequests: 2},
		{name: "no subscription", wantErr: []string{"give --subscription"}},
		{name: "not a GUID", subscriptions: []string{"prod; rm -rf"}, wantErr: []string{`"prod; rm -rf" is not a subscription ID`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &azurefake.ResourceGraph{ErrorStatus: tc.status, ErrorCode: tc.code, StuckSkipToken: tc.stuck,
				Clusters: []azure.FleetCluster{fleetCluster(fleetSub, "a")}}
			_, err := newGraph(t, fake, 0).Fleet(context.Background(), tc.subscriptions)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if perm := errors.As(err, new(*azure.PermissionError)); perm != tc.wantPerm {
				t.Errorf("PermissionError %v, want %v", perm, tc.wantPerm)
			}
			if fake.RequestCount() != tc.wantRequests {
				t.Errorf("%d requests, want %d", fake.RequestCount(), tc.wantRequests)
			}
		})
	}
}
