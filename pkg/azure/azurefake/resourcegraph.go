package azurefake

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resourcegraph/armresourcegraph"
	rgfake "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resourcegraph/armresourcegraph/fake"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
)

// ResourceGraph answers the fleet query through the SDK's fake server: the clusters of the requested
// subscriptions, PageSize rows a page with a skip token for the next, or ErrorStatus/ErrorCode.
type ResourceGraph struct {
	mu       sync.Mutex
	Clusters []azure.FleetCluster
	// PageSize caps the rows per page below the request's $top (0 = the request's $top alone).
	PageSize    int
	ErrorStatus int
	ErrorCode   string
	// StuckSkipToken answers every page with the first page and the same skip token: a server that
	// would page forever.
	StuckSkipToken bool
	// Requests records every query received, one per page.
	Requests []armresourcegraph.QueryRequest
}

// Transport is the policy.Transporter to give azure.Options.
func (g *ResourceGraph) Transport() policy.Transporter {
	return rgfake.NewServerTransport(&rgfake.Server{Resources: g.resources})
}

// RequestCount is how many queries (pages) were asked for.
func (g *ResourceGraph) RequestCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.Requests)
}

func (g *ResourceGraph) resources(_ context.Context, q armresourcegraph.QueryRequest, _ *armresourcegraph.ClientResourcesOptions) (resp azfake.Responder[armresourcegraph.ClientResourcesResponse], errResp azfake.ErrorResponder) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.Requests = append(g.Requests, q)
	if g.ErrorStatus != 0 {
		errResp.SetResponseError(g.ErrorStatus, g.ErrorCode)
		return
	}
	if q.Query == nil || !strings.HasPrefix(*q.Query, azure.FleetQueryMarker) {
		errResp.SetResponseError(http.StatusBadRequest, "BadRequest")
		return
	}
	subs := map[string]bool{}
	for _, s := range q.Subscriptions {
		subs[strings.ToLower(*s)] = true
	}
	var rows []any
	for _, c := range g.Clusters {
		if subs[strings.ToLower(c.SubscriptionID)] {
			rows = append(rows, c)
		}
	}
	size := len(rows)
	if q.Options != nil && q.Options.Top != nil {
		size = int(*q.Options.Top)
	}
	if g.PageSize > 0 && g.PageSize < size {
		size = g.PageSize
	}
	start := 0
	if q.Options != nil && q.Options.SkipToken != nil && !g.StuckSkipToken {
		n, err := strconv.Atoi(strings.TrimPrefix(*q.Options.SkipToken, "offset-"))
		if err != nil || n < 0 || n > len(rows) {
			errResp.SetResponseError(http.StatusBadRequest, "InvalidSkipToken")
			return
		}
		start = n
	}
	end := min(start+max(size, 1), len(rows))
	page := armresourcegraph.QueryResponse{Data: rows[start:end], Count: to.Ptr(int64(end - start)), TotalRecords: to.Ptr(int64(len(rows))),
		ResultTruncated: to.Ptr(armresourcegraph.ResultTruncatedFalse)}
	if end < len(rows) {
		page.SkipToken = to.Ptr(fmt.Sprintf("offset-%d", end))
	}
	if g.StuckSkipToken {
		page.SkipToken = to.Ptr("again")
	}
	resp.SetResponse(http.StatusOK, armresourcegraph.ClientResourcesResponse{QueryResponse: page}, nil)
	return
}
