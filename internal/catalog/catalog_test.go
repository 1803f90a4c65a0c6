package catalog_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

func TestDefinitionsFormAGraph(t *testing.T) {
	all := catalog.All()
	if len(all) < 60 {
		t.Fatalf("only %d definitions: is a catalog file missing?", len(all))
	}
	known := map[string]findings.Definition{}
	for _, d := range all {
		known[d.ID] = d
	}
	for _, d := range all {
		if d.Layer < findings.LayerPlatform || d.Layer > findings.LayerSymptom {
			t.Errorf("%s: layer %d out of range", d.ID, d.Layer)
		}
		if d.Explanation == "" {
			t.Errorf("%s: no explanation", d.ID)
		}
		for _, cause := range d.ExplainedBy {
			c, ok := known[cause]
			if !ok {
				t.Errorf("%s: explained by unknown ID %q", d.ID, cause)
				continue
			}
			// A cause in a higher layer than its effect would contradict the layer order.
			if c.Layer > d.Layer {
				t.Errorf("%s (%s) is explained by %s in the higher layer %s", d.ID, d.Layer, cause, c.Layer)
			}
		}
	}
	// No cycles: a cycle would make "what explains what" meaningless.
	var visit func(id string, path []string)
	visit = func(id string, path []string) {
		if slices.Contains(path, id) {
			t.Fatalf("explanation cycle: %s", strings.Join(append(path, id), " -> "))
		}
		for _, cause := range known[id].ExplainedBy {
			visit(cause, append(path, id))
		}
	}
	for id := range known {
		visit(id, nil)
	}
}

// Every command ranks through findings.Rank, so the same two findings must come out in the same
// order whichever command found them and in whatever order it found them.
func TestRankIsOrderIndependentForEveryPair(t *testing.T) {
	all := catalog.All()
	for i, a := range all {
		for _, b := range all[i+1:] {
			fa, fb := (&a).New("x", ""), (&b).New("x", "")
			ab, ba := findings.Rank([]findings.Finding{fa, fb}), findings.Rank([]findings.Finding{fb, fa})
			if ab[0].ID != ba[0].ID {
				t.Fatalf("%s and %s rank differently by input order", a.ID, b.ID)
			}
			if slices.Contains(b.ExplainedBy, a.ID) && ab[0].ID != a.ID {
				t.Errorf("%s explains %s but ranks after it", a.ID, b.ID)
			}
			if slices.Contains(a.ExplainedBy, b.ID) && ab[0].ID != b.ID {
				t.Errorf("%s explains %s but ranks after it", b.ID, a.ID)
			}
		}
	}
}

// The pair that used to split the commands: identity status ranked by ID, triage by layer.
func TestCredentialLayerLeadsStorageLayer(t *testing.T) {
	got := findings.Rank([]findings.Finding{
		catalog.BlobDataRoleMissing.New("storage", ""),
		catalog.FederatedCredentialMismatch.New("identity", ""),
		catalog.WILabelMissing.New("deployment", ""),
	})
	want := []string{"wi-label-missing", "federated-credential-mismatch", "blob-data-role-missing"}
	for i, f := range got {
		if f.ID != want[i] {
			t.Fatalf("order %v, want %v", ids(got), want)
		}
	}
}

// The log parser and the cluster-side wiring checks know every finding without linking the Azure SDK.
func TestCatalogUsersDoNotLinkTheAzureSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, pkg := range []string{"../../internal/catalog", "../../pkg/triage", "../../pkg/identity", "../../pkg/bsl"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "github.com/Azure/") {
				t.Errorf("%s links %s", pkg, dep)
				break
			}
		}
	}
}

func ids(fs []findings.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}
