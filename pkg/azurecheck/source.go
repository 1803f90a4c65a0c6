package azurecheck

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/shellquote"
)

// Where the identity and the storage settings come from.
const (
	// SourceExtension: the AKS Backup extension's AKS-assigned identity and configuration settings.
	SourceExtension = "extension"
	// SourceLocation: Velero's own user-assigned identity and its BackupStorageLocation's config
	// (plain Velero, Upbound Spaces, custom pairs).
	SourceLocation = "backupStorageLocation"
)

// Location is the part of a BackupStorageLocation that names the storage.
type Location struct {
	Name   string
	Bucket string
	Config map[string]string
	// CredentialsResourceGroup is AZURE_RESOURCE_GROUP of the credentials file, which Velero uses
	// when Config has no resourceGroup.
	CredentialsResourceGroup string
}

// Request says what Gather reads besides the cluster.
type Request struct {
	// UseExtension reads the identity and storage settings from the AKS Backup extension.
	UseExtension bool
	// Location is the BSL whose config names the storage account (nil: the namespace has none).
	Location *Location
	// AnnotatedClientIDs are the client-id annotations of the profile's service accounts, by account.
	AnnotatedClientIDs map[string]string
	// ClientID is --client-id; IdentityName and IdentityResourceGroup are --identity and
	// --identity-resource-group, in IdentitySubscription (default: the cluster's).
	ClientID, IdentityName, IdentityResourceGroup, IdentitySubscription string
	// StorageSuffix is the cloud's storage suffix (core.windows.net), for URLs in fixes.
	StorageSuffix string
}

// IdentityIssue says why no single identity was found for a BSL-based profile.
type IdentityIssue struct {
	// Kind is the finding ID: identity-unknown, identity-not-found or identity-ambiguous.
	Kind   string
	Detail string
}

// SettingsFromLocation reads the storage settings velero-plugin-for-microsoft-azure takes from a BSL.
func SettingsFromLocation(l *Location) StorageSettings {
	if l == nil {
		return StorageSettings{}
	}
	get := func(key string) string {
		for k, v := range l.Config {
			if strings.EqualFold(k, key) {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	rg := get("resourceGroup")
	if rg == "" {
		rg = l.CredentialsResourceGroup
	}
	return StorageSettings{Container: l.Bucket, Account: get("storageAccount"), ResourceGroup: rg,
		SubscriptionID: get("subscriptionId"), UseAAD: get("useAAD"), AccountURI: get("storageAccountURI")}
}

// gatherOwnIdentity finds the workload's own user-assigned identity: by --identity, else by the
// client ID (--client-id, else the service accounts' annotation), listed in the cluster's
// subscription and, when the storage lives in another one, in that one too.
func gatherOwnIdentity(ctx context.Context, client azure.Client, f *Facts, req Request) {
	sub := req.IdentitySubscription
	if sub == "" {
		sub = f.ClusterID.SubscriptionID
	}
	if req.IdentityName != "" {
		ref, err := azure.NewResourceID(sub, req.IdentityResourceGroup, azure.TypeIdentity, req.IdentityName)
		if err != nil {
			f.Unreadable = append(f.Unreadable, err)
			return
		}
		f.IdentityOrigin = "--identity " + req.IdentityName
		id, err := client.GetUserAssignedIdentity(ctx, ref)
		switch {
		case errors.As(err, new(*azure.NotFoundError)):
			f.IdentityIssue = &IdentityIssue{Kind: "identity-not-found", Detail: fmt.Sprintf("no user-assigned identity %s in resource group %s of subscription %s", req.IdentityName, req.IdentityResourceGroup, sub)}
		case err != nil:
			f.Unreadable = append(f.Unreadable, err)
		default:
			f.Identity = id
		}
		return
	}
	clientID := req.ClientID
	f.IdentityOrigin = "--client-id"
	if clientID == "" {
		distinct := map[string][]string{}
		for sa, id := range req.AnnotatedClientIDs {
			if id = strings.ToLower(strings.TrimSpace(id)); id != "" {
				distinct[id] = append(distinct[id], sa)
			}
		}
		switch len(distinct) {
		case 0:
			f.IdentityIssue = &IdentityIssue{Kind: "identity-unknown", Detail: "no service account of the profile carries an azure.workload.identity/client-id annotation, and neither --client-id nor --identity was given"}
			return
		case 1:
			for id, sas := range distinct {
				clientID = id
				sort.Strings(sas)
				f.IdentityOrigin = "the client-id annotation of serviceaccount/" + strings.Join(sas, ", serviceaccount/")
			}
		default:
			var parts []string
			for id, sas := range distinct {
				sort.Strings(sas)
				parts = append(parts, fmt.Sprintf("%s (serviceaccount/%s)", id, strings.Join(sas, ", serviceaccount/")))
			}
			sort.Strings(parts)
			f.IdentityIssue = &IdentityIssue{Kind: "identity-ambiguous", Detail: "the service accounts are annotated with different client IDs: " + strings.Join(parts, "; ")}
			return
		}
	}
	subs := []string{sub}
	if s := f.Settings.SubscriptionID; s != "" && !strings.EqualFold(s, sub) && req.IdentitySubscription == "" {
		subs = append(subs, s)
	}
	var matches []azure.Identity
	for _, s := range subs {
		found, err := client.ListUserAssignedIdentitiesByClientID(ctx, s, clientID)
		if err != nil {
			f.Unreadable = append(f.Unreadable, err)
			return
		}
		matches = append(matches, found...)
	}
	switch len(matches) {
	case 0:
		f.IdentityIssue = &IdentityIssue{Kind: "identity-not-found", Detail: fmt.Sprintf("no user-assigned identity with client ID %s (from %s) in subscription %s", clientID, f.IdentityOrigin, strings.Join(subs, " or "))}
	case 1:
		f.Identity = &matches[0]
	default:
		var ids []string
		for _, m := range matches {
			ids = append(ids, m.ID)
		}
		sort.Strings(ids)
		f.IdentityIssue = &IdentityIssue{Kind: "identity-ambiguous", Detail: fmt.Sprintf("client ID %s matches %d identities: %s", clientID, len(matches), strings.Join(ids, ", "))}
	}
}

// ContainerScope is the ARM scope of the blob container ("" when the account or container is unknown).
func (f *Facts) ContainerScope() string {
	if f.AccountID == "" || f.Settings.Container == "" {
		return ""
	}
	return f.AccountID + "/blobServices/default/containers/" + f.Settings.Container
}

// dataScope is where the identity needs its blob data actions: the container when it is known,
// else the account.
func (f *Facts) dataScope() string {
	if s := f.ContainerScope(); s != "" {
		return s
	}
	return f.AccountID
}

// dataScopeName names dataScope for messages.
func (f *Facts) dataScopeName() string {
	if f.ContainerScope() != "" {
		return "container " + f.Settings.Container + " of storage account " + f.Settings.Account
	}
	return "the storage account"
}

// BlobServiceURL is the account's blob endpoint in the facts' cloud (https://<account>.blob.<suffix>/).
func (f *Facts) BlobServiceURL() string {
	suffix := f.StorageSuffix
	if suffix == "" {
		suffix = "<STORAGE_SUFFIX>"
	}
	return "https://" + f.Settings.Account + ".blob." + suffix + "/"
}

// ownIdentityFindings are the findings of a profile whose workload has its own identity and whose
// storage the BSL names: the identity lookup, the BSL's config, then the same credential, role
// and storage checks as for the extension.
func ownIdentityFindings(f *Facts, in Input) []findings.Finding {
	var fs []findings.Finding
	ns := shellquote.Quote(in.Profile.Namespace)
	configure := "kubectl aksbackup identity configure" + in.Profile.SelectorFlags()
	if issue := f.IdentityIssue; issue != nil {
		switch issue.Kind {
		case catalog.IdentityUnknown.ID:
			fs = append(fs, catalog.IdentityUnknown.New("", issue.Detail,
				configure+" --identity <IDENTITY_NAME> --identity-resource-group <RESOURCE_GROUP> --yes",
				"or: "+configure+" --client-id <CLIENT_ID> --yes"))
		case catalog.IdentityAmbiguous.ID:
			fs = append(fs, catalog.IdentityAmbiguous.New("", issue.Detail,
				configure+" --identity <IDENTITY_NAME> --identity-resource-group <RESOURCE_GROUP> --overwrite --yes"))
		default:
			fs = append(fs, catalog.IdentityNotFound.New("", issue.Detail,
				"az identity list --query \"[].{name:name, resourceGroup:resourceGroup, clientId:clientId}\" -o table",
				"or create one: az identity create --name <IDENTITY_NAME> --resource-group <RESOURCE_GROUP>, then "+configure+" --identity <IDENTITY_NAME> --identity-resource-group <RESOURCE_GROUP> --yes"))
		}
	}
	if f.Identity != nil {
		fs = append(fs, credentialFindings(f, in)...)
		for _, pair := range onePairPerServiceAccount(in.Profile) {
			got := in.AnnotatedClientIDs[pair.ServiceAccount]
			if got != "" && !strings.EqualFold(got, f.Identity.ClientID) {
				fs = append(fs, catalog.WIClientIDWrongIdentity.New("serviceaccount/"+pair.ServiceAccount,
					fmt.Sprintf("annotated client ID %s, but identity %s (from %s) has client ID %s", got, f.Identity.Name, f.IdentityOrigin, f.Identity.ClientID),
					configure+" --overwrite --yes"))
			}
		}
	}
	loc := f.Location
	if loc == nil {
		fs = append(fs, catalog.BSLMissing.New("", "namespace "+in.Profile.Namespace+" has no Azure BackupStorageLocation, which names the storage account and container",
			fmt.Sprintf("velero backup-location create default -n %s --provider azure --bucket <CONTAINER> --config storageAccount=<ACCOUNT>,resourceGroup=<RESOURCE_GROUP>,subscriptionId=<SUBSCRIPTION>,useAAD=true", ns)))
		return fs
	}
	var missing []string
	for key, v := range map[string]string{"storageAccount": f.Settings.Account, "resourceGroup": f.Settings.ResourceGroup} {
		if v == "" {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		fs = append(fs, catalog.BSLAzureConfigMissing.New("backupstoragelocation/"+loc.Name, "config lacks "+strings.Join(missing, ", ")+", so the storage account cannot be checked",
			fmt.Sprintf("kubectl patch backupstoragelocation %s -n %s --type merge -p %s", shellquote.Quote(loc.Name), ns,
				shellquote.Quote(`{"spec":{"config":{"storageAccount":"<ACCOUNT>","resourceGroup":"<RESOURCE_GROUP>"}}}`))))
		return fs
	}
	return append(fs, storageFindings(f, in)...)
}

// onePairPerServiceAccount keeps the first pair of each service account: the Azure side federates
// and checks service accounts, and Velero's server and node-agent share one.
func onePairPerServiceAccount(p profile.Profile) []profile.Pair {
	seen := map[string]bool{}
	var out []profile.Pair
	for _, pair := range p.Pairs {
		if !seen[pair.ServiceAccount] {
			seen[pair.ServiceAccount] = true
			out = append(out, pair)
		}
	}
	return out
}
