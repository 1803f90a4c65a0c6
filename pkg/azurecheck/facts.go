package azurecheck

import (
	"context"
	"errors"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
)

// BackupExtensionType is the AKS Backup extension's type.
const BackupExtensionType = "microsoft.dataprotection.kubernetes"

// StorageSettings are the extension's storage configuration settings.
type StorageSettings struct {
	Container      string `json:"blobContainer,omitempty"`
	Account        string `json:"storageAccount,omitempty"`
	ResourceGroup  string `json:"storageAccountResourceGroup,omitempty"`
	SubscriptionID string `json:"storageAccountSubscriptionId,omitempty"`
	UseAAD         string `json:"useAAD,omitempty"`
	AccountURI     string `json:"storageAccountURI,omitempty"`
}

// settingAliases maps each setting to the names it goes by: the short names `az k8s-extension create`
// takes, and the chart paths the extension stores them under.
var settingAliases = map[string][]string{
	"container":      {"blobContainer", "configuration.backupStorageLocation.bucket"},
	"account":        {"storageAccount", "configuration.backupStorageLocation.config.storageAccount"},
	"resourceGroup":  {"storageAccountResourceGroup", "configuration.backupStorageLocation.config.resourceGroup"},
	"subscriptionId": {"storageAccountSubscriptionId", "configuration.backupStorageLocation.config.subscriptionId"},
	"useAAD":         {"useAAD", "configuration.backupStorageLocation.config.useAAD"},
	"accountURI":     {"storageAccountURI", "configuration.backupStorageLocation.config.storageAccountURI"},
}

// ParseSettings reads the storage settings whichever names they were stored under.
func ParseSettings(cfg map[string]string) StorageSettings {
	get := func(key string) string {
		for _, name := range settingAliases[key] {
			for k, v := range cfg {
				if strings.EqualFold(k, name) && v != "" {
					return v
				}
			}
		}
		return ""
	}
	return StorageSettings{Container: get("container"), Account: get("account"), ResourceGroup: get("resourceGroup"),
		SubscriptionID: get("subscriptionId"), UseAAD: get("useAAD"), AccountURI: get("accountURI")}
}

// Facts is what the Azure checks read from ARM (and the API server's issuer), gathered once.
type Facts struct {
	ClusterID       azure.ResourceID
	Cluster         *azure.Cluster
	Extension       *azure.Extension
	Settings        StorageSettings
	Identity        *azure.Identity
	Credentials     []azure.FederatedCredential
	AccountID       string
	Account         *azure.StorageAccount
	ContainerExists *bool
	Assignments     []azure.RoleAssignment
	Definitions     map[string]*azure.RoleDefinition
	// APIServerIssuer is the issuer in the cluster's /.well-known/openid-configuration ("" if unknown).
	APIServerIssuer string
	// Unreadable records reads that failed with a permission or lookup error, as findings.
	Unreadable []error
	// Source is SourceExtension or SourceLocation: where the identity and storage settings come from.
	Source string
	// Location is the BSL the storage settings come from (SourceLocation; nil when none).
	Location *Location
	// IdentityOrigin says how the identity was named (SourceLocation), IdentityIssue why none was found.
	IdentityOrigin string
	IdentityIssue  *IdentityIssue
	// StorageSuffix is the cloud's storage suffix, for URLs in fixes.
	StorageSuffix string
}

// Gather reads everything the checks need for the AKS Backup extension (the aks-backup profile).
func Gather(ctx context.Context, client azure.Client, clusterID azure.ResourceID, apiServerIssuer string) (*Facts, error) {
	return GatherFor(ctx, client, clusterID, apiServerIssuer, Request{UseExtension: true})
}

// GatherFor reads everything the checks need, from the extension or from the BSL and the workload's
// own identity as req says. It stops descending where a prerequisite is missing (no extension or no
// identity: nothing to look at) and returns an error only when the cluster itself cannot be read.
func GatherFor(ctx context.Context, client azure.Client, clusterID azure.ResourceID, apiServerIssuer string, req Request) (*Facts, error) {
	f := &Facts{ClusterID: clusterID, APIServerIssuer: apiServerIssuer, Definitions: map[string]*azure.RoleDefinition{}, StorageSuffix: req.StorageSuffix}
	var err error
	if f.Cluster, err = client.GetCluster(ctx, clusterID); err != nil {
		return nil, err
	}
	if req.UseExtension {
		f.Source = SourceExtension
		if !gatherExtension(ctx, client, f) {
			return f, nil
		}
	} else {
		f.Source, f.Location = SourceLocation, req.Location
		f.Settings = SettingsFromLocation(req.Location)
		gatherOwnIdentity(ctx, client, f, req)
	}
	gatherStorage(ctx, client, f)
	return f, nil
}

// gatherExtension finds the extension, its settings and its identity; false when there is none.
func gatherExtension(ctx context.Context, client azure.Client, f *Facts) bool {
	clusterID := f.ClusterID
	exts, err := client.ListExtensions(ctx, clusterID)
	if err != nil {
		f.Unreadable = append(f.Unreadable, err)
		return false
	}
	for i := range exts {
		if strings.EqualFold(exts[i].Type, BackupExtensionType) {
			f.Extension = &exts[i]
			break
		}
	}
	if f.Extension == nil {
		return false
	}
	f.Settings = ParseSettings(f.Extension.ConfigurationValues)

	if f.Extension.IdentityPrincipalID != "" {
		f.Identity, err = client.FindUserAssignedIdentity(ctx, clusterID.SubscriptionID, f.Extension.IdentityPrincipalID)
		if err != nil {
			if !errors.As(err, new(*azure.NotFoundError)) {
				f.Unreadable = append(f.Unreadable, err)
			}
			f.Identity = nil
		}
	}
	return true
}

// gatherStorage reads the identity's credentials, the storage account, container and roles.
func gatherStorage(ctx context.Context, client azure.Client, f *Facts) {
	var err error
	if f.Identity != nil {
		idRef, err := azure.ParseResourceID(f.Identity.ID, azure.TypeIdentity)
		if err == nil {
			f.Credentials, err = client.ListFederatedCredentials(ctx, idRef)
		}
		if err != nil {
			f.Unreadable = append(f.Unreadable, err)
		}
	}

	sub := f.Settings.SubscriptionID
	if sub == "" {
		sub = f.ClusterID.SubscriptionID
	}
	if f.Settings.Account == "" || f.Settings.ResourceGroup == "" {
		return
	}
	accountRef, err := azure.NewResourceID(sub, f.Settings.ResourceGroup, azure.TypeStorageAccount, f.Settings.Account)
	if err != nil {
		f.Unreadable = append(f.Unreadable, err)
		return
	}
	f.AccountID = accountRef.String()
	f.Account, err = client.GetStorageAccount(ctx, accountRef)
	if err != nil {
		if !errors.As(err, new(*azure.NotFoundError)) {
			f.Unreadable = append(f.Unreadable, err)
		}
		f.Account = nil
		return
	}
	if f.Settings.Container != "" {
		exists, err := client.BlobContainerExists(ctx, accountRef, f.Settings.Container)
		if err != nil {
			f.Unreadable = append(f.Unreadable, err)
		} else {
			f.ContainerExists = &exists
		}
	}
	if f.Identity != nil {
		// Listing at the resource group shows assignments above it and on every resource in it, so an
		// assignment on a sibling account is visible too and can be named as the near miss it is.
		rgScope := "/subscriptions/" + sub + "/resourceGroups/" + f.Settings.ResourceGroup
		f.Assignments, err = client.ListRoleAssignments(ctx, rgScope, f.Identity.PrincipalID)
		if err != nil {
			f.Unreadable = append(f.Unreadable, err)
		}
		for _, ra := range f.Assignments {
			if _, seen := f.Definitions[strings.ToLower(ra.RoleDefinitionID)]; seen {
				continue
			}
			rd, err := client.GetRoleDefinition(ctx, ra.RoleDefinitionID)
			if err != nil {
				f.Unreadable = append(f.Unreadable, err)
				continue
			}
			f.Definitions[strings.ToLower(ra.RoleDefinitionID)] = rd
		}
	}
}
