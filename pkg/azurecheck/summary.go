package azurecheck

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/identity"

// Summarize condenses the facts into the Azure section of `identity status`.
func Summarize(f *Facts) *identity.AzureSummary {
	s := &identity.AzureSummary{ClusterID: f.ClusterID.String(), APIServerIssuer: f.APIServerIssuer, StorageAccountID: f.AccountID, Container: f.Settings.Container,
		FederatedCredentials: len(f.Credentials)}
	if f.Cluster != nil {
		s.OIDCIssuerURL, s.WorkloadIdentityEnabled = f.Cluster.OIDCIssuerURL, f.Cluster.WorkloadIdentityEnabled
	}
	if f.Extension != nil {
		s.Extension, s.ExtensionState = f.Extension.Name, f.Extension.ProvisioningState
	}
	if f.Identity != nil {
		s.IdentityID, s.IdentityClientID, s.IdentityPrincipalID = f.Identity.ID, f.Identity.ClientID, f.Identity.PrincipalID
		s.BlobWriteGranted = f.Account != nil && hasBlobWrite(f)
	}
	return s
}
