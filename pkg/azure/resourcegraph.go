package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resourcegraph/armresourcegraph"
)

// FleetQueryMarker opens the fleet query, so that a Resource Graph double (the lab's) can recognise
// the one query it answers without parsing KQL.
const FleetQueryMarker = "// kubectl-aksbackup fleet-query v1"

// FleetQuery asks Azure Resource Graph, in one query, for every AKS cluster with its OIDC issuer and
// workload identity flags, its AKS Backup extension and that extension's provisioning state, and its
// Trusted Access role bindings. Extensions live in the kubernetesconfigurationresources table (with
// the capitalised property names that table uses); clusters and bindings in resources. Extensions and
// bindings are folded into one list per cluster, so the result has exactly one row per cluster and
// pages by cluster.
const FleetQuery = FleetQueryMarker + `
resources
| where type =~ 'microsoft.containerservice/managedclusters'
| project id, clusterKey = tolower(id), name, resourceGroup, subscriptionId, location,
    oidcIssuerEnabled = tobool(properties.oidcIssuerProfile.enabled),
    oidcIssuerURL = tostring(properties.oidcIssuerProfile.issuerURL),
    workloadIdentityEnabled = tobool(properties.securityProfile.workloadIdentity.enabled)
| join kind=leftouter (
    kubernetesconfigurationresources
    | where type =~ 'microsoft.kubernetesconfiguration/extensions'
    | where tostring(properties.ExtensionType) =~ 'microsoft.dataprotection.kubernetes'
    | parse tolower(id) with clusterKey '/providers/microsoft.kubernetesconfiguration/extensions/' *
    | summarize backupExtensions = make_list(pack('name', name, 'provisioningState', tostring(properties.ProvisioningState))) by clusterKey
  ) on clusterKey
| join kind=leftouter (
    resources
    | where type =~ 'microsoft.containerservice/managedclusters/trustedaccessrolebindings'
    | parse tolower(id) with clusterKey '/trustedaccessrolebindings/' *
    | summarize trustedAccessBindings = make_list(pack('name', name, 'sourceResourceId', tostring(properties.sourceResourceId),
        'roles', properties.roles, 'provisioningState', tostring(properties.provisioningState))) by clusterKey
  ) on clusterKey
| project id, name, resourceGroup, subscriptionId, location, oidcIssuerEnabled, oidcIssuerURL, workloadIdentityEnabled,
    backupExtensions, trustedAccessBindings
| order by id asc`

// FleetCluster is one AKS cluster as the fleet query sees it.
type FleetCluster struct {
	ID                      string                 `json:"id"`
	Name                    string                 `json:"name"`
	ResourceGroup           string                 `json:"resourceGroup"`
	SubscriptionID          string                 `json:"subscriptionId"`
	Location                string                 `json:"location,omitempty"`
	OIDCIssuerEnabled       bool                   `json:"oidcIssuerEnabled"`
	OIDCIssuerURL           string                 `json:"oidcIssuerURL,omitempty"`
	WorkloadIdentityEnabled bool                   `json:"workloadIdentityEnabled"`
	BackupExtensions        []FleetExtension       `json:"backupExtensions"`
	TrustedAccessBindings   []TrustedAccessBinding `json:"trustedAccessBindings"`
}

// FleetExtension is an installed microsoft.dataprotection.kubernetes extension.
type FleetExtension struct {
	Name              string `json:"name"`
	ProvisioningState string `json:"provisioningState"`
}

// FleetResult is the fleet query's answer and what it cost.
type FleetResult struct {
	Clusters []FleetCluster `json:"clusters"`
	// Pages is how many pages (requests) the query took.
	Pages int `json:"pages"`
}

// DefaultFleetPageSize is the most rows Resource Graph returns in one page.
const DefaultFleetPageSize = 1000

// maxFleetPages bounds a query whose service keeps handing out skip tokens.
const maxFleetPages = 10000

// ResourceGraph runs the fleet query through armresourcegraph.
type ResourceGraph struct {
	client *armresourcegraph.Client
	// PageSize is the rows asked for per page ($top); 0 = DefaultFleetPageSize.
	PageSize int32
}

// NewResourceGraph builds the Resource Graph client with the same cloud, credential, retry, transport
// and request counter as the other ARM clients.
func NewResourceGraph(o Options) (*ResourceGraph, error) {
	if o.Credential == nil {
		return nil, errors.New("azure: a credential is required")
	}
	client, err := armresourcegraph.NewClient(o.Credential, clientOptions(o))
	if err != nil {
		return nil, fmt.Errorf("building the Resource Graph client: %w", err)
	}
	return &ResourceGraph{client: client}, nil
}

// clientOptions are the options every ARM client of the tool is built with.
func clientOptions(o Options) *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: policy.ClientOptions{Cloud: o.Cloud.sdkConfig(), Retry: o.Retry, Transport: o.Transport,
		Telemetry: policy.TelemetryOptions{ApplicationID: "kubectl-aksbackup"}, PerRetryPolicies: []policy.Policy{countRequests{}}}}
}

var subscriptionGUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidateSubscriptions checks subscription IDs before anything is sent.
func ValidateSubscriptions(subscriptions []string) error {
	if len(subscriptions) == 0 {
		return errors.New("no subscription to query: give --subscription (repeatable) or set AZURE_SUBSCRIPTION_ID")
	}
	var bad []string
	for _, s := range subscriptions {
		if !subscriptionGUID.MatchString(s) {
			bad = append(bad, fmt.Sprintf("%q", s))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("--subscription %s is not a subscription ID (a GUID, as az account list --query [].id shows)", strings.Join(bad, ", "))
	}
	return nil
}

// Fleet runs the fleet query over the subscriptions, one request per page, following $skipToken.
func (g *ResourceGraph) Fleet(ctx context.Context, subscriptions []string) (*FleetResult, error) {
	if err := ValidateSubscriptions(subscriptions); err != nil {
		return nil, err
	}
	top := g.PageSize
	if top <= 0 {
		top = DefaultFleetPageSize
	}
	scope := "/subscriptions/" + strings.Join(subscriptions, ", /subscriptions/")
	out := &FleetResult{}
	var skipToken *string
	seen := map[string]bool{}
	for {
		resp, err := g.client.Resources(ctx, armresourcegraph.QueryRequest{
			Query:         to.Ptr(FleetQuery),
			Subscriptions: to.SliceOfPtrs(subscriptions...),
			Options:       &armresourcegraph.QueryRequestOptions{ResultFormat: to.Ptr(armresourcegraph.ResultFormatObjectArray), Top: to.Ptr(top), SkipToken: skipToken},
		}, nil)
		out.Pages++
		if err != nil {
			return nil, explain(err, "query Azure Resource Graph for the AKS clusters", "Microsoft.ResourceGraph/resources/read (and read on the clusters)", scope)
		}
		rows, err := decodeFleetRows(resp.Data)
		if err != nil {
			return nil, fmt.Errorf("Azure Resource Graph page %d: %w", out.Pages, err)
		}
		out.Clusters = append(out.Clusters, rows...)
		next := str(resp.SkipToken)
		if next == "" {
			break
		}
		if seen[next] || out.Pages >= maxFleetPages {
			return nil, fmt.Errorf("Azure Resource Graph kept paging (page %d repeats a skip token or passes %d pages); rerun, or query fewer subscriptions at once", out.Pages, maxFleetPages)
		}
		seen[next] = true
		skipToken = &next
	}
	sort.SliceStable(out.Clusters, func(i, j int) bool {
		return strings.ToLower(out.Clusters[i].ID) < strings.ToLower(out.Clusters[j].ID)
	})
	return out, nil
}

// decodeFleetRows reads an objectArray page into clusters; a row whose ID is not a managed cluster is
// an error, since every later step keys on it.
func decodeFleetRows(data any) ([]FleetCluster, error) {
	if data == nil {
		return nil, nil
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	var rows []FleetCluster
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("the rows are not the fleet query's objects: %w", err)
	}
	for i := range rows {
		id, err := ParseResourceID(rows[i].ID, TypeManagedCluster)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		if rows[i].Name == "" {
			rows[i].Name = id.Name
		}
		if rows[i].ResourceGroup == "" {
			rows[i].ResourceGroup = id.ResourceGroup
		}
		if rows[i].SubscriptionID == "" {
			rows[i].SubscriptionID = id.SubscriptionID
		}
	}
	return rows, nil
}
