package azurelab

import (
	"strings"
	"testing"
)

func TestParseExtraCluster(t *testing.T) {
	for _, tc := range []struct {
		in, wantID, wantErr string
	}{
		{in: "aks-lab-east=https://127.0.0.1:4443", wantID: "/subscriptions/" + Subscription + "/resourceGroups/lab-rg/providers/Microsoft.ContainerService/managedClusters/aks-lab-east"},
		{in: "aks-lab-east", wantErr: "want NAME=ISSUER_URL"},
		{in: "=https://127.0.0.1:4443", wantErr: "want NAME=ISSUER_URL"},
		{in: "aks-lab-east=", wantErr: "want NAME=ISSUER_URL"},
	} {
		c, err := ParseExtraCluster(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || c.ID() != tc.wantID || c.Issuer != "https://127.0.0.1:4443" || !c.OIDCIssuerEnabled || !c.WorkloadIdentity || c.ExtensionState != "Succeeded" {
			t.Errorf("%q: %+v (id %s), %v", tc.in, c, c.ID(), err)
		}
	}
}
