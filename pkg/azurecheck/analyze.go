package azurecheck

import (
	"fmt"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"sort"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/shellquote"
)

// Constants of the Azure side of the wiring.
const (
	TokenAudience                 = "api://AzureADTokenExchange"
	BlobWriteData                 = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
	RoleBlobDataContributor       = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
	RoleStorageAccountContributor = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
)

// Subject is the federated-credential subject of a Kubernetes service account.
func Subject(namespace, serviceAccount string) string {
	return "system:serviceaccount:" + namespace + ":" + serviceAccount
}

// Input is what Analyze needs besides the ARM facts.
type Input struct {
	Profile profile.Profile
	// AnnotatedClientIDs maps service account name to its client-id annotation (from the cluster).
	AnnotatedClientIDs map[string]string
}

// Analyze turns gathered facts into findings. It reads nothing.
func Analyze(f *Facts, in Input) []findings.Finding {
	var fs []findings.Finding
	add := func(def *findings.Definition, object, msg string, fixes ...string) {
		fs = append(fs, def.New(object, msg, fixes...))
	}
	for _, err := range f.Unreadable {
		fs = append(fs, unreadableFinding(err))
	}
	c, id := f.Cluster, f.ClusterID
	azAKS := fmt.Sprintf("az aks update --resource-group %s --name %s", shellquote.Quote(id.ResourceGroup), shellquote.Quote(id.Name))
	if !c.OIDCIssuerEnabled {
		add(catalog.OIDCIssuerDisabled, id.String(), "the cluster publishes no OIDC issuer", azAKS+" --enable-oidc-issuer")
	}
	if !c.WorkloadIdentityEnabled {
		add(catalog.WorkloadIdentityDisabled, id.String(), "securityProfile.workloadIdentity is not enabled", azAKS+" --enable-workload-identity")
	}
	if c.IdentityType == "" || (c.ServicePrincipalClientID != "" && !strings.EqualFold(c.ServicePrincipalClientID, "msi")) {
		add(catalog.ClusterIdentityUnsupported, id.String(), "the cluster authenticates with service principal "+c.ServicePrincipalClientID, azAKS+" --enable-managed-identity")
	}
	if f.APIServerIssuer != "" && c.OIDCIssuerURL != "" && f.APIServerIssuer != c.OIDCIssuerURL {
		add(catalog.IssuerMismatch, id.String(), fmt.Sprintf("the API server issues tokens for %q but ARM reports %q", f.APIServerIssuer, c.OIDCIssuerURL),
			"make the API server's --service-account-issuer the OIDC issuer URL (AKS does this when the OIDC issuer is enabled); then rerun `kubectl aksbackup identity configure`")
	}

	if f.Source == SourceLocation {
		fs = append(fs, ownIdentityFindings(f, in)...)
		return rank(fs)
	}
	ext := f.Extension
	if ext == nil {
		if len(f.Unreadable) == 0 {
			add(catalog.ExtensionMissing, id.String(), "no extension of type "+BackupExtensionType+" on the cluster",
				fmt.Sprintf("az k8s-extension create --name azure-aks-backup --extension-type %s --scope cluster --cluster-type managedClusters --cluster-name %s --resource-group %s --release-train stable --configuration-settings blobContainer=<CONTAINER> storageAccount=<ACCOUNT> storageAccountResourceGroup=<RG> storageAccountSubscriptionId=%s",
					BackupExtensionType, id.Name, id.ResourceGroup, id.SubscriptionID))
		}
		return rank(fs)
	}
	extCmd := fmt.Sprintf("az k8s-extension show --name %s --cluster-type managedClusters --cluster-name %s --resource-group %s", shellquote.Quote(ext.Name), shellquote.Quote(id.Name), shellquote.Quote(id.ResourceGroup))
	if !strings.EqualFold(ext.ProvisioningState, "Succeeded") {
		add(catalog.ExtensionNotSucceeded, ext.ID, fmt.Sprintf("extension %s is in provisioning state %q", ext.Name, ext.ProvisioningState),
			extCmd+" --query provisioningState", "kubectl get pods -n dataprotection-microsoft",
			fmt.Sprintf("az k8s-extension update --name %s --cluster-type managedClusters --cluster-name %s --resource-group %s", shellquote.Quote(ext.Name), shellquote.Quote(id.Name), shellquote.Quote(id.ResourceGroup)))
	}
	var missingSettings []string
	for name, v := range map[string]string{"blobContainer": f.Settings.Container, "storageAccount": f.Settings.Account, "storageAccountResourceGroup": f.Settings.ResourceGroup} {
		if v == "" {
			missingSettings = append(missingSettings, name)
		}
	}
	if len(missingSettings) > 0 {
		add(catalog.ExtensionConfigIncomplete, ext.ID, "missing configuration settings: "+strings.Join(sorted(missingSettings), ", "),
			fmt.Sprintf("az k8s-extension update --name %s --cluster-type managedClusters --cluster-name %s --resource-group %s --configuration-settings blobContainer=<CONTAINER> storageAccount=<ACCOUNT> storageAccountResourceGroup=<RG> storageAccountSubscriptionId=<SUB>", shellquote.Quote(ext.Name), shellquote.Quote(id.Name), shellquote.Quote(id.ResourceGroup)))
	}

	switch {
	case ext.IdentityPrincipalID == "":
		add(catalog.ExtensionIdentityMissing, ext.ID, "the extension reports no aksAssignedIdentity", extCmd+" --query aksAssignedIdentity")
	case f.Identity == nil:
		add(catalog.ExtensionIdentityNotFound, ext.ID, fmt.Sprintf("no user-assigned identity with principal ID %s in subscription %s", ext.IdentityPrincipalID, id.SubscriptionID),
			fmt.Sprintf("az identity list --subscription %s --query \"[?principalId=='%s']\"", id.SubscriptionID, ext.IdentityPrincipalID))
	default:
		fs = append(fs, credentialFindings(f, in)...)
		for _, pair := range onePairPerServiceAccount(in.Profile) {
			got := in.AnnotatedClientIDs[pair.ServiceAccount]
			if got != "" && !strings.EqualFold(got, f.Identity.ClientID) {
				add(catalog.WIClientIDWrongIdentity, "serviceaccount/"+pair.ServiceAccount,
					fmt.Sprintf("annotated client ID %s, but the extension identity %s has client ID %s", got, f.Identity.Name, f.Identity.ClientID),
					"kubectl aksbackup identity configure --overwrite --yes"+in.Profile.SelectorFlags())
			}
		}
	}

	if f.Settings.Account != "" && f.Settings.ResourceGroup != "" {
		fs = append(fs, storageFindings(f, in)...)
	}
	return rank(fs)
}

func credentialFindings(f *Facts, in Input) []findings.Finding {
	var fs []findings.Finding
	issuer := f.Cluster.OIDCIssuerURL
	if issuer == "" {
		return nil // oidc-issuer-disabled explains it; nothing to compare against
	}
	idRef := f.Identity
	for _, pair := range onePairPerServiceAccount(in.Profile) {
		want := azure.FederatedCredential{Issuer: issuer, Subject: Subject(in.Profile.Namespace, pair.ServiceAccount), Audiences: []string{TokenAudience}}
		var exact bool
		var close *azure.FederatedCredential
		var diff []string
		for i := range f.Credentials {
			fc := &f.Credentials[i]
			d := credentialDiff(want, *fc, pair.ServiceAccount)
			if d == nil {
				continue // unrelated credential
			}
			if len(d) == 0 {
				exact = true
				break
			}
			if close == nil || len(d) < len(diff) {
				close, diff = fc, d
			}
		}
		object := idRef.ID + "/federatedIdentityCredentials"
		create := fmt.Sprintf("az identity federated-credential create --name %s --identity-name %s --resource-group %s --issuer %s --subject %s --audiences %s",
			shellquote.Quote(CredentialName(pair.ServiceAccount)), shellquote.Quote(idRef.Name), shellquote.Quote(idRef.ResourceGroup), shellquote.Quote(issuer), shellquote.Quote(want.Subject), TokenAudience)
		configure := "kubectl aksbackup identity configure --yes" + in.Profile.SelectorFlags()
		switch {
		case exact:
		case close != nil:
			f := catalog.FederatedCredentialMismatch.New(object+"/"+close.Name,
				fmt.Sprintf("credential %s for %s differs: %s", close.Name, pair.ServiceAccount, strings.Join(diff, "; ")), configure, create)
			f.Component = pair.Workload.Name
			fs = append(fs, f)
		default:
			f := catalog.FederatedCredentialMissing.New(object, fmt.Sprintf("identity %s has no federated credential for issuer %s and subject %s", idRef.Name, issuer, want.Subject), configure, create)
			f.Component = pair.Workload.Name
			fs = append(fs, f)
		}
	}
	return fs
}

// credentialDiff compares a credential with the wanted one: nil when unrelated (neither subject nor
// service account name in common), empty when it matches exactly, else one line per difference.
func credentialDiff(want, have azure.FederatedCredential, serviceAccount string) []string {
	related := have.Subject == want.Subject || strings.HasSuffix(have.Subject, ":"+serviceAccount) || strings.EqualFold(have.Name, CredentialName(serviceAccount))
	if !related {
		return nil
	}
	diff := []string{}
	if have.Issuer != want.Issuer {
		note := ""
		if strings.TrimRight(have.Issuer, "/") == strings.TrimRight(want.Issuer, "/") {
			note = " (only the trailing slash differs, and it matters)"
		}
		diff = append(diff, fmt.Sprintf("issuer: have %q, want %q%s", have.Issuer, want.Issuer, note))
	}
	if have.Subject != want.Subject {
		diff = append(diff, fmt.Sprintf("subject: have %q, want %q", have.Subject, want.Subject))
	}
	if len(have.Audiences) != 1 || have.Audiences[0] != TokenAudience {
		diff = append(diff, fmt.Sprintf("audiences: have %q, want [%q]", have.Audiences, TokenAudience))
	}
	return diff
}

// CredentialName is the deterministic name configure gives the credential of a service account.
func CredentialName(serviceAccount string) string {
	var b strings.Builder
	b.WriteString("aksbackup-")
	for _, r := range serviceAccount {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	name := b.String()
	if len(name) > 120 {
		name = name[:120]
	}
	return name
}

func storageFindings(f *Facts, in Input) []findings.Finding {
	var fs []findings.Finding
	add := func(def *findings.Definition, object, msg string, fixes ...string) {
		fs = append(fs, def.New(object, msg, fixes...))
	}
	s := f.Settings
	if f.Account == nil {
		add(catalog.StorageAccountNotFound, f.AccountID, "storage account "+s.Account+" not found in resource group "+s.ResourceGroup,
			fmt.Sprintf("az storage account show --name %s --resource-group %s", shellquote.Quote(s.Account), shellquote.Quote(s.ResourceGroup)))
		return fs
	}
	a := f.Account
	if f.ContainerExists != nil && !*f.ContainerExists {
		add(catalog.ContainerNotFound, f.AccountID+"/blobServices/default/containers/"+s.Container, "container "+s.Container+" does not exist in "+s.Account,
			fmt.Sprintf("az storage container create --name %s --account-name %s --auth-mode login", shellquote.Quote(s.Container), shellquote.Quote(s.Account)))
	}
	if a.AllowSharedKeyAccess != nil && !*a.AllowSharedKeyAccess && !strings.EqualFold(s.UseAAD, "true") {
		owner, useAAD := "the extension's", "az k8s-extension update ... --configuration-settings useAAD=true storageAccountURI="+shellquote.Quote(f.BlobServiceURL())
		if f.Source == SourceLocation && f.Location != nil {
			owner = "BackupStorageLocation " + f.Location.Name + "'s"
			useAAD = fmt.Sprintf("kubectl patch backupstoragelocation %s -n %s --type merge -p %s", shellquote.Quote(f.Location.Name), shellquote.Quote(in.Profile.Namespace),
				shellquote.Quote(fmt.Sprintf(`{"spec":{"config":{"useAAD":"true","storageAccountURI":%q}}}`, f.BlobServiceURL())))
		}
		add(catalog.SharedKeyDisabled, f.AccountID, "allowSharedKeyAccess is false and "+owner+" useAAD is "+quoteOr(s.UseAAD, "unset"),
			useAAD,
			"or: az storage account update --name "+shellquote.Quote(s.Account)+" --resource-group "+shellquote.Quote(s.ResourceGroup)+" --allow-shared-key-access true")
	}
	switch {
	case strings.EqualFold(a.PublicNetworkAccess, "Disabled"):
		add(catalog.StorageNetworkBlocked, f.AccountID, "publicNetworkAccess is Disabled; only private endpoints reach the account",
			"create a private endpoint for blob in the cluster's virtual network, or: az storage account update --name "+shellquote.Quote(s.Account)+" --resource-group "+shellquote.Quote(s.ResourceGroup)+" --public-network-access Enabled")
	case strings.EqualFold(a.DefaultAction, "Deny") && len(a.IPRules) == 0 && len(a.VirtualNetworkRules) == 0:
		add(catalog.StorageNetworkBlocked, f.AccountID, "networkAcls.defaultAction is Deny and no IP or virtual-network rule admits the cluster",
			"az storage account network-rule add --account-name "+shellquote.Quote(s.Account)+" --resource-group "+shellquote.Quote(s.ResourceGroup)+" --subnet <CLUSTER_SUBNET_ID>",
			"or: az storage account network-rule add --account-name "+shellquote.Quote(s.Account)+" --resource-group "+shellquote.Quote(s.ResourceGroup)+" --ip-address <CLUSTER_EGRESS_IP>")
	case strings.EqualFold(a.DefaultAction, "Deny"):
		add(catalog.StorageNetworkRestricted, f.AccountID, fmt.Sprintf("networkAcls.defaultAction is Deny; allowed: %s", strings.Join(append(append([]string{}, a.IPRules...), a.VirtualNetworkRules...), ", ")),
			"check that the cluster's egress IP or node subnet is listed: az storage account network-rule list --account-name "+shellquote.Quote(s.Account))
	}
	if f.Identity != nil {
		fs = append(fs, roleFindings(f, in)...)
	}
	return fs
}

func roleFindings(f *Facts, in Input) []findings.Finding {
	var fs []findings.Finding
	scope := f.dataScope()
	granted := map[string]bool{}
	contributor := false
	var elsewhere, noData []string
	for _, ra := range f.Assignments {
		rd := f.Definitions[strings.ToLower(ra.RoleDefinitionID)]
		if rd == nil {
			continue
		}
		covers := azure.ScopeContains(ra.Scope, scope)
		gives := GrantedDataActions(rd)
		switch {
		case len(gives) > 0 && covers:
			for _, a := range gives {
				granted[a] = true
			}
		case len(gives) > 0:
			elsewhere = append(elsewhere, fmt.Sprintf("%s at %s, which does not enclose %s", rd.RoleName, ra.Scope, f.dataScopeName()))
		case covers:
			noData = append(noData, fmt.Sprintf("%s at %s grants no blob data action", rd.RoleName, ra.Scope))
		}
		if azure.ScopeContains(ra.Scope, f.AccountID) && strings.HasSuffix(strings.ToLower(ra.RoleDefinitionID), RoleStorageAccountContributor) {
			contributor = true
		}
	}
	principal := f.Identity.PrincipalID
	var missing []string
	for _, a := range BlobDataActions {
		if !granted[a] {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("identity %s (principal %s) has no role granting %s on %s", f.Identity.Name, principal, strings.Join(missing, ", "), scope)
		if notes := append(elsewhere, noData...); len(notes) > 0 {
			msg += "; found: " + strings.Join(notes, "; ")
		}
		fs = append(fs, catalog.BlobDataRoleMissing.New(f.AccountID, msg,
			"kubectl aksbackup identity configure --yes"+in.Profile.SelectorFlags(),
			fmt.Sprintf("az role assignment create --assignee-object-id %s --assignee-principal-type ServicePrincipal --role \"Storage Blob Data Contributor\" --scope %s", principal, shellquote.Quote(scope))))
	}
	// Velero with useAAD=true never lists the account keys, so only the extension (and key-based
	// Velero) needs Storage Account Contributor.
	needsContributor := f.Source != SourceLocation || !strings.EqualFold(f.Settings.UseAAD, "true")
	if !contributor && needsContributor {
		fs = append(fs, catalog.StorageAccountContributorMissing.New(f.AccountID, "Storage Account Contributor is not assigned to "+f.Identity.Name+" on the storage account",
			fmt.Sprintf("az role assignment create --assignee-object-id %s --assignee-principal-type ServicePrincipal --role \"Storage Account Contributor\" --scope %s", principal, f.AccountID)))
	}
	return fs
}

// Blob data actions Velero uses on its container: list and read, write, delete.
const (
	BlobReadData   = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
	BlobDeleteData = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete"
)

// BlobDataActions are the data actions the identity needs on the container.
var BlobDataActions = []string{BlobReadData, BlobWriteData, BlobDeleteData}

// GrantedDataActions lists which of BlobDataActions a role grants (dataActions minus notDataActions).
func GrantedDataActions(rd *azure.RoleDefinition) []string {
	var out []string
	for _, a := range BlobDataActions {
		if Grants(rd, a) {
			out = append(out, a)
		}
	}
	return out
}

// Grants reports whether a role definition allows a data action: some dataAction pattern matches it
// and no notDataAction does. Management actions ("*" in Owner) never grant data access.
func Grants(rd *azure.RoleDefinition, dataAction string) bool {
	allowed := false
	for _, p := range rd.DataActions {
		if actionMatches(p, dataAction) {
			allowed = true
			break
		}
	}
	for _, p := range rd.NotDataActions {
		if actionMatches(p, dataAction) {
			return false
		}
	}
	return allowed
}

// actionMatches matches an RBAC action pattern, where * stands for any run of characters, ignoring case.
func actionMatches(pattern, action string) bool {
	p, a := strings.ToLower(pattern), strings.ToLower(action)
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == a
	}
	if !strings.HasPrefix(a, parts[0]) {
		return false
	}
	a = a[len(parts[0]):]
	for i, part := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(a, part)
		}
		idx := strings.Index(a, part)
		if idx < 0 {
			return false
		}
		a = a[idx+len(part):]
	}
	return true
}

func unreadableFinding(err error) findings.Finding {
	return catalog.AzureReadFailed.New("", err.Error(),
		"grant the missing read permission (Reader on the cluster, its node resource group and the storage account), or rerun with --azure-credential naming an identity that has it")
}

func rank(fs []findings.Finding) []findings.Finding { return findings.Rank(fs) }

func quoteOr(s, d string) string {
	if s == "" {
		return d
	}
	return fmt.Sprintf("%q", s)
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
