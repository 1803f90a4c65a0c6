package triage

import (
	"regexp"
	"sort"
	"strings"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
)

// Signature recognises one root cause in log text. The catalog is data: IDs are stable, and each
// entry has a unit test with lines in the real format (see catalog_test.go and README's catalog).
type Signature struct {
	// Def is the finding this signature reports; its layer and what explains it live there.
	Def *findings.Definition
	// Anchors are literals of which at least one occurs in every matching line; the prefilter
	// searches for them, so a line without any is never parsed.
	Anchors []string
	// Patterns are tried in order on the line's unescaped text; the first match counts. Each starts
	// with a literal, so Go's regexp skips to it with a fast string search instead of running its
	// automaton over the whole line. Named groups (issuer, subject, account, ...) fill the
	// remediation's {placeholders}.
	Patterns []*regexp.Regexp
	// Requires, when set, lists literals of which one must also occur before any pattern runs:
	// a cheap test that spares the regexp engine the lines that only share an anchor.
	Requires []string
	// Overrides lists less specific IDs that this one replaces when both match the same line.
	Overrides []string
	// Remediation lines; {name} is filled from values found in the log or given as context, and
	// left as <name> otherwise.
	Remediation []string

	anchorBytes, requireBytes [][]byte
}

func res(patterns ...string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		out[i] = regexp.MustCompile(p)
	}
	return out
}

func define(id string, sev findings.Severity, title, explanation string) *findings.Definition {
	return findings.Define(findings.Definition{ID: id, Severity: sev, Title: title, Explanation: explanation})
}

// remediations used by several entries.
var (
	fixIdentity = []string{
		"kubectl aksbackup identity status -n {namespace}",
		"kubectl aksbackup identity configure -n {namespace} --yes",
		"kubectl aksbackup bsl -n {namespace} --wait-available --timeout 15m",
	}
	waitBSL = "kubectl aksbackup bsl -n {namespace} --wait-available --timeout 15m"
)

// Catalog is every signature, in no particular order (ranking orders findings).
var Catalog = []Signature{
	// A pod without workload identity falls back to managed identity through IMDS, or, in a
	// DefaultAzureCredential chain, finds no AZURE_TENANT_ID (which the webhook always sets).
	{Def: catalog.WINotInjected,
		Anchors: []string{"ManagedIdentityCredential", "no token file specified", "no tenant ID specified", "AZURE_FEDERATED_TOKEN_FILE",
			"missing environment variable AZURE_TENANT_ID", "managedidentity.UserAssigned", "Identity not found"},
		Patterns: res(`ManagedIdentityCredential`, `empty managedidentity\.UserAssigned(?:ClientID|ResourceID|ObjectID)`, `no token file specified`, `no tenant ID specified`,
			`AZURE_FEDERATED_TOKEN_FILE[^\n]{0,40}(?:not set|missing|empty)`, `missing environment variable AZURE_TENANT_ID`, `Identity not found`),
		Remediation: fixIdentity},
	// Injected without a client ID: Velero's own workload identity path says so directly; in a
	// DefaultAzureCredential chain the tenant is set and only AZURE_CLIENT_ID is missing.
	{Def: catalog.WIClientIDMissing,
		Anchors:     []string{"no client ID specified"},
		Patterns:    res(`(?:^|desc = |Azure AD credential: )no client ID specified`, `missing environment variable AZURE_CLIENT_ID[\s\S]{0,300}?WorkloadIdentityCredential: no client ID specified`),
		Overrides:   []string{"wi-not-injected"},
		Remediation: fixIdentity},
	{Def: catalog.TokenFileUnreadable,
		Anchors:   []string{"azure-identity-token", "failed to read token file", "WorkloadIdentityCredential", "ClientAssertionCredential"},
		Requires:  []string{": no such file or directory", ": permission denied"},
		Patterns:  res(`(?:WorkloadIdentity|ClientAssertion)Credential[^\n]*?open (?P<tokenFile>\S+): (?:no such file or directory|permission denied)`, `failed to read token file[^\n]{0,20}?open (?P<tokenFile>\S+): (?:no such file or directory|permission denied)`, `open (?P<tokenFile>\S*azure-identity-token): (?:no such file or directory|permission denied)`),
		Overrides: []string{"wi-not-injected"},
		Remediation: []string{
			"kubectl aksbackup identity status -n {namespace}   # shows the projected volume and mount of each pod",
			"kubectl rollout restart deployment -n {namespace} {deployment}",
		}},
	{Def: catalog.CredentialsFileUnreadable,
		Anchors: []string{"failed to read credentials from file", "error loading environment from", "credentialsFile does not exist", "could not get credentialsFile info",
			"unable to get credentials: ", "open /credentials/"},
		Patterns: res(`failed to read credentials from file(?: (?P<file>/\S+))?`, `error loading environment from (?:credentials file|AZURE_CREDENTIALS_FILE)`, `provided credentialsFile does not exist`,
			`could not get credentialsFile info`, `unable to get credentials: `, `open (?P<file>/credentials/\S+): no such file`),
		Remediation: []string{
			"kubectl get bsl -n {namespace} {bsl} -o jsonpath='{.spec.credential}'",
			"kubectl get secret -n {namespace}   # the secret and key named there must exist",
		}},
	{Def: catalog.CredentialsIncomplete,
		Anchors: []string{"the following keys do not have values: AZURE_", "AZURE_TENANT_ID is required", "AZURE_CLIENT_ID is required", "incomplete credential configuration",
			"subscription ID not found in object store", "unknown cloud: ", "there is no cloud matching the name"},
		Patterns: res(`the following keys do not have values: (?P<key>AZURE_\S*)`, `(?P<key>AZURE_(?:TENANT|CLIENT)_ID) is required`, `incomplete credential configuration`,
			`subscription ID not found in object store`, `unknown cloud: (?P<cloud>\S*)`, `there is no cloud matching the name`),
		Remediation: []string{
			"kubectl get bsl -n {namespace} {bsl} -o jsonpath='{.spec.credential}'   # the secret and key Velero reads",
			"kubectl get secret -n {namespace} <secret> -o jsonpath='{.data.cloud}' | base64 -d | cut -d= -f1   # key names only; each needs a value",
			"kubectl aksbackup identity configure -n {namespace} --yes   # with workload identity and useAAD=true the file needs none of them",
		}},
	{Def: catalog.PodIdentityIntercept,
		Anchors: []string{"AzureAssignedIdentity", "aad-pod-identity", "no azure identity found for request", "getting assigned identities for pod", "Check MIC pod logs",
			"AAD Pod Identity NMI"},
		Patterns: res(`AzureAssignedIdentity`, `aad-pod-identity`, `no azure identity found for request`, `getting assigned identities for pod (?P<pod>\S+) in \w+ state failed`,
			`Check MIC pod logs`, `Request blocked by AAD Pod Identity NMI`),
		Overrides: []string{"wi-not-injected"},
		Remediation: []string{
			"kubectl get pods -A -l app.kubernetes.io/component=nmi   # is aad-pod-identity installed?",
			"kubectl label namespace {namespace} aadpodidentity.k8s.io/exempt=true   # or remove pod identity (deprecated)",
			"kubectl aksbackup identity configure -n {namespace} --yes",
		}},
	{Def: catalog.ManagedIdentityAmbiguous,
		Anchors:     []string{"user assigned identities exist", "Multiple user assigned identities", "clientId / resourceId of the identity"},
		Patterns:    res(`[Mm]ultiple user assigned identities exist`, `specify the clientId / resourceId of the identity`),
		Overrides:   []string{"wi-not-injected"},
		Remediation: fixIdentity},
	// Entra answered: a credential reached it, so a "not injected" reading of the same entry (an
	// earlier link of a credential chain) is not the cause.
	{Def: catalog.OIDCIssuerDisabled,
		Anchors:   []string{"AADSTS70021:", "AADSTS700211:", "kubernetes.default.svc"},
		Patterns:  res(`AADSTS7002(?:1|11):[^\n]*?[Ii]ssuer:? '(?P<issuer>https://kubernetes\.default\.svc[^']*)'`),
		Overrides: []string{"federated-credential-mismatch", "wi-not-injected"},
		Remediation: []string{
			"az aks update -g {resourceGroup} -n {cluster} --enable-oidc-issuer --enable-workload-identity",
			"kubectl aksbackup identity configure -n {namespace} --yes   # recreates the federated credentials with the new issuer",
			waitBSL,
		}},
	{Def: catalog.FederatedCredentialMismatch,
		Anchors: []string{"No matching federated identity record", "AADSTS70021:", "AADSTS700211:", "AADSTS700212:", "AADSTS700213:"},
		Patterns: res(`AADSTS70021(?:[123])?:[^\n]*?(?:(?:[Aa]ssertion )?[Ii]ssuer:? '(?P<issuer>[^']*)'|[Ss]ubject:? '(?P<subject>[^']*)'|[Aa]udience:? '(?P<audience>[^']*)'|No matching federated identity record)`,
			`No matching federated identity record found for presented assertion(?: (?:issuer '(?P<issuer>[^']*)'|subject '(?P<subject>[^']*)'|audience '(?P<audience>[^']*)'))?`),
		Overrides: []string{"wi-not-injected"},
		Remediation: []string{
			"kubectl aksbackup identity status -n {namespace}   # shows the issuer and subjects the credentials need",
			"kubectl aksbackup identity configure -n {namespace} --yes   # creates the missing or corrected credentials",
			"az identity federated-credential list -g {resourceGroup} --identity-name {identity}",
			waitBSL,
		}},
	{Def: catalog.ClientAssertionExpired,
		Anchors:   []string{"AADSTS700024:"},
		Patterns:  res(`AADSTS700024:`),
		Overrides: []string{"wi-not-injected"},
		Remediation: []string{
			"kubectl rollout restart deployment -n {namespace} {deployment}   # a new pod gets a fresh projected token",
			"check the node clock (chrony/NTP) if it happens again",
		}},
	{Def: catalog.TenantNotFound,
		Anchors:   []string{"AADSTS90002:", "AADSTS900023:"},
		Patterns:  res(`AADSTS90002:[^\n]*?[Tt]enant '(?P<tenant>[^']*)'`, `AADSTS900023:[^\n]*?identifier '(?P<tenant>[^']*)'`, `AADSTS(?:90002|900023):`),
		Overrides: []string{"wi-not-injected"},
		Remediation: []string{
			"az account show --query tenantId -o tsv   # the tenant the identity lives in",
			"kubectl get sa -n {namespace} -o yaml | grep azure.workload.identity/tenant-id   # remove or correct a wrong override",
		}},
	{Def: catalog.OIDCIssuerUnreachable,
		Anchors:   []string{"AADSTS50166:", "AADSTS90061:"},
		Patterns:  res(`AADSTS(?:50166|90061):`),
		Overrides: []string{"wi-not-injected"},
		Remediation: []string{
			"az aks show -g {resourceGroup} -n {cluster} --query oidcIssuerProfile.issuerUrl -o tsv",
			"curl -s {issuer}.well-known/openid-configuration   # must answer publicly",
			"kubectl aksbackup identity status -n {namespace}",
		}},
	{Def: catalog.ApplicationNotFound,
		Anchors:     []string{"AADSTS700016:"},
		Patterns:    res(`AADSTS700016:[^\n]*?identifier '(?P<clientID>[^']*)'`, `AADSTS700016:`),
		Overrides:   []string{"wi-not-injected"},
		Remediation: fixIdentity},
	{Def: catalog.ClientSecretInvalid,
		Anchors:  []string{"AADSTS7000215:", "AADSTS7000222:"},
		Patterns: res(`AADSTS70002(?:15|22):`),
		Remediation: []string{
			"kubectl aksbackup identity configure -n {namespace} --yes   # switch to workload identity; no secret to expire",
			"kubectl get bsl -n {namespace} {bsl} -o jsonpath='{.spec.credential}'   # or rotate the secret this names",
		}},
	{Def: catalog.BSLConfigIncomplete,
		Anchors: []string{"is required in BSL", "is required in the BSL", "required in BSL or credential", "config has invalid keys", "BackupStorageLocation spec is invalid",
			"failed to parse bool from useAAD", "the following keys do not have values", "storageAccount not defined", "must not contain a '/'"},
		Patterns: res(`(?P<key>storageAccount|resource group|subscription ID) is required in (?:the )?BSL`, `config has invalid keys \[(?P<key>[^\]]*)\]`, `BackupStorageLocation spec is invalid`,
			`failed to parse bool from useAAD`, `the following keys do not have values: (?P<key>(?:resourceGroup|storageAccount|subscriptionId)[^\n]*)`, `storageAccount not defined`,
			`bucket name "(?P<bucket>[^"]*)" must not contain a '/'`),
		Remediation: []string{
			"kubectl aksbackup bsl -n {namespace} {bsl}   # shows the config keys that are set",
			"kubectl patch bsl -n {namespace} {bsl} --type merge -p '{\"spec\":{\"config\":{\"storageAccount\":\"{account}\",\"resourceGroup\":\"{resourceGroup}\",\"subscriptionId\":\"{subscription}\",\"useAAD\":\"true\"}}}'",
		}},
	{Def: catalog.SubscriptionInvalid,
		Anchors:   []string{"SubscriptionNotFound", "InvalidSubscriptionId"},
		Patterns:  res(`SubscriptionNotFound`, `InvalidSubscriptionId`),
		Overrides: []string{"storage-key-misconfigured"},
		Remediation: []string{
			"az account list --query \"[].{name:name,id:id}\" -o table",
			"kubectl patch bsl -n {namespace} {bsl} --type merge -p '{\"spec\":{\"config\":{\"subscriptionId\":\"<subscription-id>\"}}}'",
		}},
	{Def: catalog.StorageKeyMisconfigured,
		// Every way a key goes wrong: the old plugin's env var, Velero's credential key, a key Azure
		// Storage rejects (by code, or by its message alone), one that is not base64, and ListKeys
		// refused (azcore and autorest wordings).
		Anchors: []string{"no storage account access key with key", "no storage account key found in env var", "AuthenticationFailed", "Make sure the value of Authorization header",
			"storage key with Full permissions", "No storage keys found", "failed to list storage account access keys", "decode account key", "listKeys/action", "AccountsClient#ListKeys"},
		Patterns: res(`no storage account access key with key(?: (?P<keyName>\S+))?`, `no storage account key found in env var(?: (?P<keyName>\S+))?`, `AuthenticationFailed\b`,
			`Make sure the value of Authorization header is formed correctly`, `[Nn]o storage key with Full permissions`, `No storage keys found`, `failed to list storage account access keys`,
			`decode account key`, `listKeys/action`, `AccountsClient#ListKeys: Failure responding to request: StatusCode=40[13]`),
		Remediation: []string{
			"kubectl patch bsl -n {namespace} {bsl} --type merge -p '{\"spec\":{\"config\":{\"useAAD\":\"true\",\"storageAccountKeyEnvVar\":null}}}'   # use the workload identity instead of a key",
			waitBSL,
		}},
	{Def: catalog.StorageAccountReadDenied,
		// Velero logs this at info level and falls back to the default endpoint, so an ARM error
		// inside the same entry (a subscription or account ARM cannot find) is not a failure.
		Anchors:     []string{"failed to retrieve the storage account properties", "error getting storage account properties"},
		Patterns:    res(`failed to retrieve the storage account properties`, `error getting storage account properties`),
		Overrides:   []string{"subscription-invalid", "storage-account-not-found"},
		Remediation: []string{"optional: az role assignment create --assignee {clientID} --role Reader --scope <storage-account-id>   # lets Velero read the account's real endpoint"}},
	{Def: catalog.StorageURIInvalid,
		// A storageAccountURI without a scheme gives "no Host in request URL"; one without a host
		// makes the container name the host, which does not resolve.
		Anchors: []string{"no such host", "unsupported protocol scheme", "storageAccountURI", "no Host in request URL", "missing protocol scheme"},
		Patterns: res(`lookup (?P<host>[\w.-]+\.blob\.[\w.-]+)(?: on [^\s:]+(?::\d+)?)?: no such host`,
			`restype=container": dial tcp: lookup (?P<host>[\w.-]+)(?: on [^\s:]+(?::\d+)?)?: no such host`, `unsupported protocol scheme`, `no Host in request URL`,
			`missing protocol scheme`, `storageAccountURI[^\n]*?(?:invalid|parse)`),
		Overrides: []string{"extension-egress-blocked"},
		Remediation: []string{
			"az storage account show -g {resourceGroup} -n {account} --query primaryEndpoints.blob -o tsv",
			"kubectl aksbackup bsl -n {namespace} {bsl}   # compare storageAccount and storageAccountURI",
		}},
	{Def: catalog.StorageNetworkBlocked,
		Anchors:  []string{"AuthorizationFailure", "not authorized to perform this operation."},
		Patterns: res(`AuthorizationFailure\b`, `This request is not authorized to perform this operation\.`),
		Remediation: []string{
			"az storage account show -g {resourceGroup} -n {account} --query \"{public:publicNetworkAccess,rules:networkRuleSet}\"",
			"az storage account network-rule add -g {resourceGroup} --account-name {account} --subnet <aks-subnet-id>   # or a private endpoint",
			waitBSL,
		}},
	{Def: catalog.SharedKeyDisabled,
		Anchors:  []string{"KeyBasedAuthenticationNotPermitted", "Key based authentication is not permitted", "StorageAccountKeyAccessDisallowed", "does not support key based authentication"},
		Patterns: res(`KeyBasedAuthenticationNotPermitted`, `Key based authentication is not permitted`, `StorageAccountKeyAccessDisallowed`, `does not support key based authentication`),
		Remediation: []string{
			"kubectl patch bsl -n {namespace} {bsl} --type merge -p '{\"spec\":{\"config\":{\"useAAD\":\"true\"}}}'",
			"kubectl aksbackup identity configure -n {namespace} --yes",
			waitBSL,
		}},
	{Def: catalog.BlobDataRoleMissing,
		Anchors:  []string{"AuthorizationPermissionMismatch", "not authorized to perform this operation using this permission"},
		Patterns: res(`AuthorizationPermissionMismatch`, `not authorized to perform this operation using this permission`),
		Remediation: []string{
			"kubectl aksbackup identity configure -n {namespace} --yes   # grants Storage Blob Data Contributor on the account",
			"az role assignment create --assignee {clientID} --role \"Storage Blob Data Contributor\" --scope $(az storage account show -g {resourceGroup} -n {account} --query id -o tsv)",
			waitBSL + "   # role assignments take up to 10 minutes to apply",
		}},
	{Def: catalog.ContainerNotFound,
		Anchors:  []string{"ContainerNotFound", "The specified container does not exist"},
		Patterns: res(`ContainerNotFound`, `The specified container does not exist`),
		Remediation: []string{
			"az storage container create --account-name {account} --name {container} --auth-mode login",
			waitBSL,
		}},
	{Def: catalog.PluginMissing,
		Anchors:  []string{"unable to locate ObjectStore plugin", "unable to locate VolumeSnapshotter plugin"},
		Patterns: res(`unable to locate (?:ObjectStore|VolumeSnapshotter) plugin named (?P<plugin>\S+)`),
		Remediation: []string{
			"kubectl get deploy -n {namespace} {deployment} -o jsonpath='{.spec.template.spec.initContainers[*].image}'",
			"kubectl logs -n {namespace} deploy/{deployment} -c velero-plugin-for-microsoft-azure",
		}},
	{Def: catalog.PluginOOM,
		Anchors:  []string{"OOMKilled", "signal: killed"},
		Patterns: res(`OOMKilled`, `plugin process exited[^\n]*signal: killed`, `signal: killed[^\n]*plugin`),
		Remediation: []string{
			"kubectl describe pod -n {namespace} -l app.kubernetes.io/name={deployment}   # Last State: OOMKilled",
			"raise the velero container's memory limit (AKS Backup: az k8s-extension update ... --configuration-settings resources.limits.memory=2Gi)",
		}},
	{Def: catalog.ExtensionEgressBlocked,
		// The hosts, not the failures, anchor this entry: "connection refused" is common in healthy
		// logs, an Azure host next to it is not.
		Anchors: []string{"login.microsoftonline.", "login.chinacloudapi.cn", "management.azure.com", "management.usgovcloudapi.net", "management.chinacloudapi.cn",
			".blob.core.windows.net", ".blob.core.usgovcloudapi.net", ".blob.core.chinacloudapi.cn", ".blob.storage.azure.net", "kubernetesconfiguration.azure.com", "mcr.microsoft.com"},
		Requires: []string{"i/o timeout", "Client.Timeout exceeded", "connection refused", "connection reset by peer", "TLS handshake timeout", "no route to host", "network is unreachable", "no such host"},
		Patterns: res(`https?://(?P<host>[\w.-]*(?:login\.microsoftonline\.(?:com|us)|login\.chinacloudapi\.cn|management\.(?:azure\.com|usgovcloudapi\.net|chinacloudapi\.cn)|\.blob\.core\.(?:windows\.net|usgovcloudapi\.net|chinacloudapi\.cn)|\.blob\.storage\.azure\.net|\.(?:dp|data)\.kubernetesconfiguration\.azure\.com|mcr\.microsoft\.com))[^\n]*?(?:i/o timeout|Client\.Timeout exceeded|connection refused|connection reset by peer|TLS handshake timeout|no route to host|network is unreachable|no such host)`, `lookup (?P<host>[\w.-]*(?:login\.microsoftonline\.(?:com|us)|login\.chinacloudapi\.cn|management\.(?:azure\.com|usgovcloudapi\.net|chinacloudapi\.cn)|mcr\.microsoft\.com))[^\n]{0,60}?: (?:no such host|i/o timeout)`),
		Remediation: []string{
			"allow egress to login.microsoftonline.com, management.azure.com, *.blob.core.windows.net and *.dp.kubernetesconfiguration.azure.com (AKS Backup network requirements)",
			"kubectl get networkpolicy -n {namespace}",
		}},
	// client-go's reflector names the type it lists ("failed to list *v1.BackupStorageLocation");
	// "failed to list storage account access keys" is Velero's ARM call, not the API server.
	{Def: catalog.APIServerUnreachable,
		Anchors:  []string{"Unable to connect to the server", "Failed to watch", "failed to list", "10.0.0.1:443", "unable to retrieve the complete list of server APIs"},
		Patterns: res(`Unable to connect to the server`, `(?:Failed to watch|failed to list) \*[^\n]*?(?:i/o timeout|Client\.Timeout exceeded|connection refused|connection reset by peer|TLS handshake timeout|no route to host|network is unreachable|no such host)`, `dial tcp 10\.0\.0\.1:443`, `unable to retrieve the complete list of server APIs`),
		Remediation: []string{
			"kubectl get --raw /readyz?verbose",
			"kubectl get networkpolicy -n {namespace}   # egress to the API server must be allowed",
		}},
	{Def: catalog.InsufficientResources,
		Anchors: []string{"Insufficient cpu", "Insufficient memory", "Insufficient ephemeral-storage", "Too many pods", "had untolerated taint", "didn't match Pod's node affinity"},
		Patterns: res(`Insufficient (?:cpu|memory|ephemeral-storage)`, `Too many pods`, `node\(s\) had untolerated taint(?: \{(?P<taint>[^}]*)\})?`,
			`node\(s\) didn't match Pod's node affinity`),
		Remediation: []string{
			"kubectl get events -n {namespace} --field-selector reason=FailedScheduling",
			"scale the node pool or lower the extension's resource requests",
		}},
	{Def: catalog.StorageAccountNotFound,
		Anchors:   []string{"ResourceGroupNotFound", "ResourceNotFound", "under resource group"},
		Patterns:  res(`The Resource 'Microsoft\.Storage/storageAccounts/(?P<account>[^']+)' under resource group '(?P<resourceGroup>[^']+)' was not found`, `ResourceGroupNotFound`),
		Overrides: []string{"storage-key-misconfigured"},
		Remediation: []string{
			"az storage account show -g {resourceGroup} -n {account} --query id -o tsv   # must exist where the BSL says",
			"kubectl aksbackup bsl -n {namespace} {bsl}   # shows storageAccount, resourceGroup and subscriptionId",
		}},
	{Def: catalog.StorageAccountDisabled,
		Anchors:  []string{"AccountIsDisabled", "The specified account is disabled"},
		Patterns: res(`AccountIsDisabled`, `The specified account is disabled`),
		Remediation: []string{
			"az storage account show -g {resourceGroup} -n {account} --query \"{status:statusOfPrimary,state:provisioningState}\"",
			"az account show --query state -o tsv   # a disabled subscription disables its accounts",
		}},
	{Def: catalog.StorageTokenRejected,
		Anchors:  []string{"InvalidAuthenticationInfo", "refer to the information in the www-authenticate header"},
		Patterns: res(`InvalidAuthenticationInfo`, `refer to the information in the www-authenticate header`),
		Remediation: []string{
			"az storage account show -g {resourceGroup} -n {account} --query id -o tsv   # is the account in the identity's tenant?",
			"kubectl aksbackup identity status -n {namespace}",
			waitBSL,
		}},
	{Def: catalog.BackupStoreForeignContent,
		Anchors:  []string{"invalid top-level directories"},
		Patterns: res(`contains (?:\d+ )?invalid top-level directories: \[(?P<dirs>[^\]]*)\]`),
		Remediation: []string{
			"az storage blob list --account-name {account} -c {container} --delimiter / --auth-mode login --query \"[].name\" -o tsv   # what else is at the top level",
			"give this location its own container, or a prefix: kubectl patch bsl -n {namespace} {bsl} --type merge -p '{\"spec\":{\"objectStorage\":{\"prefix\":\"velero\"}}}'   # a new prefix starts an empty store",
		}},
	{Def: catalog.ExtensionHelmFailed,
		Anchors: []string{"due to atomic being set", "Helm installation failed", "ExtensionOperationFailed", "InstallationFailed", "failed to install chart",
			"Timed out waiting for the resource to come to a ready", "UPGRADE FAILED", "INSTALLATION FAILED"},
		Patterns: res(`(?:uninstalled|rolled back|rollback) due to atomic being set(?:: (?P<reason>[^\]\n"]+))?`, `Helm installation failed`, `ExtensionOperationFailed`,
			`InstallationFailed`, `failed to install chart`, `Timed out waiting for the resource to come to a ready`, `(?:UPGRADE|INSTALLATION) FAILED`),
		Remediation: []string{
			"az k8s-extension show -g {resourceGroup} -c {cluster} -t managedClusters -n azure-aks-backup --query \"{state:provisioningState,error:errorInfo}\"",
			"kubectl get pods,jobs,events -n dataprotection-microsoft   # why the release's pods did not become ready",
			"once the cause is fixed, re-create the extension: az k8s-extension delete -g {resourceGroup} -c {cluster} -t managedClusters -n azure-aks-backup --yes, then create it with the same settings",
		}},
	{Def: catalog.ExtensionAdmissionDenied,
		Anchors:  []string{"denied the request", "validation.gatekeeper.sh"},
		Patterns: res(`admission webhook "(?P<webhook>[^"]+)"\s*denied the request`, `denied the request: \[(?P<policy>azurepolicy-[^\]]+)\]`, `validation\.gatekeeper\.sh`),
		Remediation: []string{
			"kubectl get events -n dataprotection-microsoft --field-selector reason=FailedCreate",
			"az policy assignment list --scope $(az aks show -g {resourceGroup} -n {cluster} --query id -o tsv) -o table   # allow mcr.microsoft.com/azurebackup images or exempt the namespace",
		}},
	{Def: catalog.ExtensionDataPlaneDenied,
		Anchors:  []string{"This traffic is not authorized"},
		Patterns: res(`This traffic is not authorized`),
		Remediation: []string{
			"kubectl get pods -n kube-system | grep extension-agent   # then: kubectl exec -n kube-system <pod> -- nslookup <region>.dp.kubernetesconfiguration.azure.com",
			"a private address means an Azure Arc private link scope shares the VNet or private DNS: use separate VNets, or a CoreDNS hosts override to the public address",
		}},
	{Def: catalog.BSLUnavailable,
		Anchors:  []string{"is unavailable", "marking as unavailable", "Phase:", `"phase"`, "phase=Unavailable", "available/unavailable/unknown"},
		Patterns: res(`BackupStorageLocation "(?P<bslName>[^"]+)" is unavailable`, `marking as unavailable`, `Phase:\s+Unavailable`, `"phase":\s*"Unavailable"`, `phase=Unavailable`, `available/unavailable/unknown: \d+/[1-9]`),
		Remediation: []string{
			"kubectl aksbackup identity status -n {namespace}",
			waitBSL,
		}},
}

// successAnchors mark a BSL validated again ("BackupStorageLocations is valid, marking as
// available"): findings about it before this line are resolved.
var successAnchors = []string{"marking as available"}

// Entry is a catalog entry as `triage --catalog -o json` prints it.
type Entry struct {
	ID          string   `json:"id"`
	Severity    string   `json:"severity"`
	Layer       string   `json:"layer"`
	Title       string   `json:"title"`
	Explanation string   `json:"explanation"`
	Anchors     []string `json:"anchors"`
	Patterns    []string `json:"patterns"`
	Remediation []string `json:"remediation"`
}

// Entries lists the catalog in rank order (layer, then ID).
func Entries() []Entry {
	var out []Entry
	for _, s := range Catalog {
		e := Entry{ID: s.Def.ID, Severity: string(s.Def.Severity), Layer: s.Def.Layer.String(), Title: s.Def.Title, Explanation: s.Def.Explanation,
			Anchors: s.Anchors, Remediation: s.Remediation}
		for _, p := range s.Patterns {
			e.Patterns = append(e.Patterns, p.String())
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		li, lj := signatureOf[out[i].ID].Def.Layer, signatureOf[out[j].ID].Def.Layer
		if li != lj {
			return li < lj
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// AnchorsERE is every anchor as one POSIX extended regular expression, for comparing the triage
// scan with `grep -c -E` on the same log (make bench).
func AnchorsERE() string {
	var parts []string
	seen := map[string]bool{}
	for _, s := range Catalog {
		for _, a := range s.Anchors {
			if !seen[a] {
				seen[a] = true
				parts = append(parts, regexp.QuoteMeta(a))
			}
		}
	}
	for _, a := range successAnchors {
		parts = append(parts, regexp.QuoteMeta(a))
	}
	return strings.Join(parts, "|")
}
