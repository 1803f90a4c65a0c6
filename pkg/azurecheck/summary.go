package azurecheck

// Summary is the Azure section of `identity status -o json`.
type Summary struct {
	ClusterID               string `json:"clusterId"`
	OIDCIssuerURL           string `json:"oidcIssuerURL,omitempty"`
	APIServerIssuer         string `json:"apiServerIssuer,omitempty"`
	WorkloadIdentityEnabled bool   `json:"workloadIdentityEnabled"`
	Extension               string `json:"extension,omitempty"`
	ExtensionState          string `json:"extensionProvisioningState,omitempty"`
	IdentityID              string `json:"identityId,omitempty"`
	IdentityClientID        string `json:"identityClientId,omitempty"`
	IdentityPrincipalID     string `json:"identityPrincipalId,omitempty"`
	FederatedCredentials    int    `json:"federatedCredentials"`
	StorageAccountID        string `json:"storageAccountId,omitempty"`
	Container               string `json:"container,omitempty"`
	BlobWriteGranted        bool   `json:"blobWriteGranted"`
}

// Summarize condenses the facts for output.
func Summarize(f *Facts) *Summary {
	s := &Summary{ClusterID: f.ClusterID.String(), APIServerIssuer: f.APIServerIssuer, StorageAccountID: f.AccountID, Container: f.Settings.Container,
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
