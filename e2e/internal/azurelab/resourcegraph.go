package azurelab

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The Resource Graph double answers one query, the plugin's fleet query, from the ARM double's state:
// it recognises the query by its marker and tables, and refuses anything else with a 400, since it is
// no KQL engine. It pages like Resource Graph ($top, $skipToken) with a page size a test can lower
// (POST /_lab/resourcegraph {"pageSize":N}, or $AKSBACKUP_LAB_ARG_PAGE_SIZE), and counts the queries
// it receives (GET /_lab/resourcegraph).
const (
	resourceGraphPath = "/providers/microsoft.resourcegraph/resources"
	// fleetQueryMarker opens the plugin's fleet query (pkg/azure.FleetQueryMarker).
	fleetQueryMarker = "// kubectl-aksbackup fleet-query v1"
	// argDefaultTop is Resource Graph's page size when the request sets no $top.
	argDefaultTop = 100
	argMaxTop     = 1000
)

// fleetQueryTables are the tables and types the fleet query must read for the double to answer it.
var fleetQueryTables = []string{"resources", "kubernetesconfigurationresources", "microsoft.containerservice/managedclusters",
	"microsoft.kubernetesconfiguration/extensions", "microsoft.dataprotection.kubernetes", "microsoft.containerservice/managedclusters/trustedaccessrolebindings"}

// resourceGraph holds the double's settings and counter; they outlive scenario switches.
type resourceGraph struct {
	mu       sync.Mutex
	pageSize int
	queries  int
}

// ResourceGraphStatus is GET /_lab/resourcegraph.
type ResourceGraphStatus struct {
	// Queries is how many POSTs to the Resource Graph endpoint arrived (one per page), refused ones included.
	Queries int `json:"queries"`
	// PageSize caps the rows of a page (0: only the request's $top).
	PageSize int `json:"pageSize"`
}

func (g *resourceGraph) effectivePageSize() int {
	if g.pageSize > 0 {
		return g.pageSize
	}
	n, _ := strconv.Atoi(os.Getenv("AKSBACKUP_LAB_ARG_PAGE_SIZE"))
	return max(n, 0)
}

// serveSettings is /_lab/resourcegraph: GET the counter, POST {"pageSize":N} to set the page size and
// reset the counter.
func (g *resourceGraph) serveSettings(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.Method == http.MethodPost {
		var req struct {
			PageSize int `json:"pageSize"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<12)).Decode(&req); err != nil || req.PageSize < 0 {
			http.Error(w, `want {"pageSize": N} with N >= 0`, http.StatusBadRequest)
			return
		}
		g.pageSize, g.queries = req.PageSize, 0
	}
	writeJSON(w, http.StatusOK, ResourceGraphStatus{Queries: g.queries, PageSize: g.effectivePageSize()})
}

// graphRow is one row of the fleet query's result, in its projected column names.
type graphRow struct {
	ID                      string         `json:"id"`
	Name                    string         `json:"name"`
	ResourceGroup           string         `json:"resourceGroup"`
	SubscriptionID          string         `json:"subscriptionId"`
	Location                string         `json:"location"`
	OIDCIssuerEnabled       bool           `json:"oidcIssuerEnabled"`
	OIDCIssuerURL           string         `json:"oidcIssuerURL"`
	WorkloadIdentityEnabled bool           `json:"workloadIdentityEnabled"`
	BackupExtensions        []graphExt     `json:"backupExtensions"`
	TrustedAccessBindings   []graphBinding `json:"trustedAccessBindings"`
}

type graphExt struct {
	Name              string `json:"name"`
	ProvisioningState string `json:"provisioningState"`
}

type graphBinding struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	SourceResourceID  string   `json:"sourceResourceId"`
	Roles             []string `json:"roles"`
	ProvisioningState string   `json:"provisioningState"`
}

// fleetRows is every AKS cluster the ARM double models, as the fleet query would see it.
func (s *State) fleetRows() []graphRow {
	issuer := ""
	if s.OIDCIssuerEnabled {
		issuer = s.Issuer
	}
	rows := []graphRow{{ID: ClusterID, Name: ClusterName, ResourceGroup: ResourceGroup, SubscriptionID: Subscription, Location: "eastus",
		OIDCIssuerEnabled: s.OIDCIssuerEnabled, OIDCIssuerURL: issuer, WorkloadIdentityEnabled: s.WorkloadIdentity,
		BackupExtensions: []graphExt{{Name: "azure-aks-backup", ProvisioningState: s.ExtensionState}}, TrustedAccessBindings: graphBindings(ClusterID, s.Bindings)}}
	for _, c := range s.ExtraClusters {
		row := graphRow{ID: c.ID(), Name: c.Name, ResourceGroup: c.ResourceGroup, SubscriptionID: Subscription, Location: c.Location,
			OIDCIssuerEnabled: c.OIDCIssuerEnabled, WorkloadIdentityEnabled: c.WorkloadIdentity, TrustedAccessBindings: graphBindings(c.ID(), extraClusterBindings)}
		if c.OIDCIssuerEnabled {
			row.OIDCIssuerURL = c.Issuer
		}
		if c.ExtensionState != "" {
			row.BackupExtensions = []graphExt{{Name: "azure-aks-backup", ProvisioningState: c.ExtensionState}}
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return strings.ToLower(rows[i].ID) < strings.ToLower(rows[j].ID) })
	return rows
}

// extraClusterBindings: the extra clusters come with AKS Backup set up (a Succeeded extension), so
// with the lab vault's Trusted Access binding too; only lab-aks's bindings are state a test changes.
var extraClusterBindings = []Binding{{Name: "bv-lab-vault", Source: VaultID, Roles: []string{"Microsoft.DataProtection/backupVaults/backup-operator"}}}

func graphBindings(clusterID string, bs []Binding) []graphBinding {
	out := make([]graphBinding, 0, len(bs))
	for _, b := range bs {
		out = append(out, graphBinding{ID: clusterID + "/trustedAccessRoleBindings/" + b.Name, Name: b.Name, SourceResourceID: b.Source, Roles: b.Roles, ProvisioningState: "Succeeded"})
	}
	return out
}

// resourceGraph answers POST /providers/Microsoft.ResourceGraph/resources for the fleet query.
func (a *ARM) resourceGraph(w http.ResponseWriter, r *http.Request, s *State) {
	g := &a.graph
	g.mu.Lock()
	g.queries++
	pageSize := g.effectivePageSize()
	g.mu.Unlock()
	if r.URL.Query().Get("api-version") == "" {
		armError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	var req struct {
		Query         string   `json:"query"`
		Subscriptions []string `json:"subscriptions"`
		Options       struct {
			ResultFormat string `json:"resultFormat"`
			Top          *int   `json:"$top"`
			SkipToken    string `json:"$skipToken"`
		} `json:"options"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		armError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content is not valid JSON: "+err.Error())
		return
	}
	if !strings.HasPrefix(req.Query, fleetQueryMarker) || !readsFleetTables(req.Query) {
		armError(w, http.StatusBadRequest, "BadRequest", "The lab's Resource Graph double answers only kubectl-aksbackup's fleet query (it starts with '"+fleetQueryMarker+"' and reads the resources and kubernetesconfigurationresources tables); it is no KQL engine.")
		return
	}
	if !strings.EqualFold(req.Options.ResultFormat, "objectArray") {
		armError(w, http.StatusBadRequest, "BadRequest", "The lab's Resource Graph double answers in resultFormat objectArray only.")
		return
	}
	if len(req.Subscriptions) == 0 {
		armError(w, http.StatusBadRequest, "BadRequest", "Please provide below info when asking for support: the query names no subscriptions.")
		return
	}
	top := argDefaultTop
	if req.Options.Top != nil {
		if *req.Options.Top < 1 || *req.Options.Top > argMaxTop {
			armError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("$top must be between 1 and %d.", argMaxTop))
			return
		}
		top = *req.Options.Top
	}
	if pageSize > 0 {
		top = min(top, pageSize)
	}
	wanted := map[string]bool{}
	for _, sub := range req.Subscriptions {
		wanted[strings.ToLower(sub)] = true
	}
	var rows []graphRow
	for _, row := range s.fleetRows() {
		if wanted[strings.ToLower(row.SubscriptionID)] {
			rows = append(rows, row)
		}
	}
	scope := queryScope(req.Query, req.Subscriptions)
	start := 0
	if req.Options.SkipToken != "" {
		offset, ok := parseSkipToken(req.Options.SkipToken, scope)
		if !ok || offset > len(rows) {
			armError(w, http.StatusBadRequest, "InvalidSkipToken", "The $skipToken is not one this query and these subscriptions were given.")
			return
		}
		start = offset
	}
	end := min(start+top, len(rows))
	page := map[string]any{"totalRecords": len(rows), "count": end - start, "resultTruncated": "false", "data": rows[start:end], "facets": []any{}}
	if end < len(rows) {
		page["$skipToken"] = skipToken(end, scope)
	}
	writeJSON(w, http.StatusOK, page)
}

func readsFleetTables(query string) bool {
	lower := strings.ToLower(query)
	for _, t := range fleetQueryTables {
		if !strings.Contains(lower, t) {
			return false
		}
	}
	return true
}

// queryScope ties a skip token to the query and subscriptions it was given for, as Resource Graph
// requires the same query and scopes with its token.
func queryScope(query string, subscriptions []string) string {
	subs := make([]string, len(subscriptions))
	for i, s := range subscriptions {
		subs[i] = strings.ToLower(s)
	}
	sort.Strings(subs)
	sum := sha256.Sum256([]byte(query + "\x00" + strings.Join(subs, ",")))
	return hex.EncodeToString(sum[:8])
}

func skipToken(offset int, scope string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("lab-arg:%s:%d", scope, offset)))
}

func parseSkipToken(token, scope string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(raw), "lab-arg:"+scope+":")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}
