package azurelab

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

const testFleetQuery = fleetQueryMarker + `
resources | where type =~ 'microsoft.containerservice/managedclusters'
| join kind=leftouter (kubernetesconfigurationresources | where type =~ 'microsoft.kubernetesconfiguration/extensions'
  | where properties.ExtensionType =~ 'microsoft.dataprotection.kubernetes') on clusterKey
| join kind=leftouter (resources | where type =~ 'microsoft.containerservice/managedclusters/trustedaccessrolebindings') on clusterKey`

type graphPage struct {
	Count     int        `json:"count"`
	Total     int        `json:"totalRecords"`
	SkipToken string     `json:"$skipToken"`
	Data      []graphRow `json:"data"`
}

func postGraph(t *testing.T, url string, body map[string]any) (int, graphPage, string) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url+"/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01", bytes.NewReader(data))
	req.Header.Set("Authorization", armToken(AdminObjectID))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	var page graphPage
	_ = json.Unmarshal(raw.Bytes(), &page)
	return resp.StatusCode, page, raw.String()
}

func graphStatus(t *testing.T, url string, set *int) ResourceGraphStatus {
	t.Helper()
	var resp *http.Response
	var err error
	if set != nil {
		resp, err = http.Post(url+"/_lab/resourcegraph", "application/json", strings.NewReader(`{"pageSize":`+strconv.Itoa(*set)+`}`))
	} else {
		resp, err = http.Get(url + "/_lab/resourcegraph")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st ResourceGraphStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestResourceGraphDoubleAnswersTheFleetQuery: rows come from the ARM double's state (lab-aks and the
// extra clusters), page by the lab page size with a skip token tied to the query, count every query,
// and any other query is refused with a 400.
func TestResourceGraphDoubleAnswersTheFleetQuery(t *testing.T) {
	s, err := Scenario("wired", "ns", []string{"workload-identity-disabled"}, "t", "https://issuer/", "", "")
	if err != nil {
		t.Fatal(err)
	}
	s.Bindings = []Binding{{Name: "bv-lab-vault", Source: VaultID, Roles: []string{"Microsoft.DataProtection/backupVaults/backup-operator"}}}
	for _, name := range []string{"aks-lab-east", "aks-lab-west"} {
		c, err := ParseExtraCluster(name + "=https://" + name + "/")
		if err != nil {
			t.Fatal(err)
		}
		s.ExtraClusters = append(s.ExtraClusters, c)
	}
	srv := httptest.NewServer(&ARM{Store: &Store{s: s}})
	defer srv.Close()
	query := map[string]any{"query": testFleetQuery, "subscriptions": []string{Subscription}, "options": map[string]any{"resultFormat": "objectArray", "$top": 1000}}

	two := 2
	if st := graphStatus(t, srv.URL, &two); st.PageSize != 2 || st.Queries != 0 {
		t.Fatalf("settings %+v", st)
	}
	code, first, body := postGraph(t, srv.URL, query)
	if code != 200 || first.Count != 2 || first.Total != 3 || first.SkipToken == "" {
		t.Fatalf("page 1: %d %s", code, body)
	}
	query["options"].(map[string]any)["$skipToken"] = first.SkipToken
	code, second, body := postGraph(t, srv.URL, query)
	if code != 200 || second.Count != 1 || second.SkipToken != "" {
		t.Fatalf("page 2: %d %s", code, body)
	}
	rows := append(first.Data, second.Data...)
	var names []string
	for _, r := range rows {
		names = append(names, r.Name)
		wantWI := r.Name != ClusterName // the fault is lab-aks's
		if r.WorkloadIdentityEnabled != wantWI || len(r.BackupExtensions) != 1 || len(r.TrustedAccessBindings) != 1 {
			t.Errorf("row %+v", r)
		}
	}
	if strings.Join(names, ",") != "aks-lab-east,aks-lab-west,lab-aks" {
		t.Errorf("rows %v", names)
	}
	if st := graphStatus(t, srv.URL, nil); st.Queries != 2 {
		t.Errorf("%d queries counted, want 2 (one per page)", st.Queries)
	}

	refused := []struct {
		name   string
		change func(map[string]any)
	}{
		{"another query", func(q map[string]any) { q["query"] = "resources | project id" }},
		{"the marker without the tables", func(q map[string]any) { q["query"] = fleetQueryMarker + "\nresources | project id" }},
		{"a skip token of another query", func(q map[string]any) {
			q["subscriptions"] = []string{Subscription2}
			q["options"].(map[string]any)["$skipToken"] = first.SkipToken
		}},
		{"table format", func(q map[string]any) { q["options"] = map[string]any{"resultFormat": "table"} }},
	}
	for _, tc := range refused {
		q := map[string]any{"query": testFleetQuery, "subscriptions": []string{Subscription}, "options": map[string]any{"resultFormat": "objectArray", "$skipToken": first.SkipToken}}
		tc.change(q)
		if code, _, body := postGraph(t, srv.URL, q); code != 400 {
			t.Errorf("%s: %d %s, want 400", tc.name, code, body)
		}
	}
	if st := graphStatus(t, srv.URL, nil); st.Queries != 2+len(refused) {
		t.Errorf("%d queries counted, want refused ones too: %d", st.Queries, 2+len(refused))
	}
	delete(query["options"].(map[string]any), "$skipToken")
	query["subscriptions"] = []string{Subscription2}
	if code, page, body := postGraph(t, srv.URL, query); code != 200 || page.Total != 0 {
		t.Errorf("another subscription: %d %s", code, body)
	}
}
