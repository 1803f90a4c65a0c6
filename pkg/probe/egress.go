package probe

import (
	"fmt"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
)

// ExplainEgress turns a connection failure of the verifier into egress-denied-by-network-policy
// when NetworkPolicies restrict the pod's egress.
func ExplainEgress(res *Result, policies []string) {
	if len(policies) == 0 || res == nil {
		return
	}
	for i := range res.Steps {
		s := &res.Steps[i]
		if s.Status == StatusFailed && (s.FindingID == catalog.ExtensionEgressBlocked.ID || (s.FindingID == catalog.DNSFailed.ID && strings.Contains(s.Detail, "timeout"))) {
			s.FindingID = catalog.EgressDenied.ID
			s.Detail = fmt.Sprintf("NetworkPolicy %s restricts the pod's egress: %s", strings.Join(policies, ", "), s.Detail)
		}
	}
}
