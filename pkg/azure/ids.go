package azure

import (
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
)

// ResourceID is a parsed ARM resource ID.
type ResourceID struct {
	SubscriptionID string
	ResourceGroup  string
	Name           string
	raw            string
	parsed         *arm.ResourceID
}

// ParseResourceID parses an ARM ID and, when wantType is set (e.g. "Microsoft.ContainerService/managedClusters"),
// checks the resource type, so a cluster flag given a storage account ID fails with a clear message.
func ParseResourceID(id, wantType string) (ResourceID, error) {
	parsed, err := arm.ParseResourceID(strings.TrimSpace(id))
	if err != nil {
		return ResourceID{}, fmt.Errorf("%q is not an Azure resource ID (expected /subscriptions/<sub>/resourceGroups/<rg>/providers/%s/<name>): %w", id, orDefault(wantType, "<type>"), err)
	}
	if wantType != "" && !strings.EqualFold(parsed.ResourceType.String(), wantType) {
		return ResourceID{}, fmt.Errorf("%q is a %s, not a %s", id, parsed.ResourceType.String(), wantType)
	}
	if parsed.SubscriptionID == "" || parsed.ResourceGroupName == "" {
		return ResourceID{}, fmt.Errorf("%q lacks a subscription or resource group", id)
	}
	return ResourceID{SubscriptionID: parsed.SubscriptionID, ResourceGroup: parsed.ResourceGroupName, Name: parsed.Name, raw: parsed.String(), parsed: parsed}, nil
}

// NewResourceID builds an ID from its parts, for example a cluster from --subscription/--resource-group/--cluster.
func NewResourceID(subscriptionID, resourceGroup, resourceType, name string) (ResourceID, error) {
	return ParseResourceID(fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/%s/%s", subscriptionID, resourceGroup, resourceType, name), resourceType)
}

func (r ResourceID) String() string { return r.raw }

// Parent returns the ID of the resource this one is nested in ("" at the top).
func (r ResourceID) Parent() string {
	if r.parsed == nil || r.parsed.Parent == nil {
		return ""
	}
	return r.parsed.Parent.String()
}

// Resource types the tool names.
const (
	TypeManagedCluster = "Microsoft.ContainerService/managedClusters"
	TypeStorageAccount = "Microsoft.Storage/storageAccounts"
	TypeIdentity       = "Microsoft.ManagedIdentity/userAssignedIdentities"
	TypeBackupVault    = "Microsoft.DataProtection/backupVaults"
)

// ScopeContains reports whether an assignment at outer applies at inner: the same scope or an
// enclosing one (management group, subscription, resource group, parent resource). ARM IDs are
// case-insensitive.
func ScopeContains(outer, inner string) bool {
	o := strings.TrimRight(strings.ToLower(outer), "/")
	i := strings.TrimRight(strings.ToLower(inner), "/")
	if o == "" || o == "/" {
		return true
	}
	if strings.HasPrefix(o, "/providers/microsoft.management/managementgroups/") {
		// Management groups enclose subscriptions; the hierarchy is not visible from the ID, so the
		// caller must ask ARM. Treat as enclosing, as ARM only returns ancestors when listing.
		return true
	}
	return i == o || strings.HasPrefix(i, o+"/")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
