package velerolab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/sirupsen/logrus"
)

// The azure plugin's BSL config keys and credential-file keys (velero pkg/util/azure).
const (
	cfgResourceGroup    = "resourceGroup"
	cfgStorageAccount   = "storageAccount"
	cfgSubscriptionID   = "subscriptionId"
	cfgStorageURI       = "storageAccountURI"
	cfgUseAAD           = "useAAD"
	cfgAuthorityURI     = "activeDirectoryAuthorityURI"
	cfgKeyEnvVar        = "storageAccountKeyEnvVar"
	cfgCredentialsFile  = "credentialsFile"
	cfgBlockSize        = "blockSizeInBytes"
	cfgAPIVersion       = "apiVersion"
	credSubscriptionID  = "AZURE_SUBSCRIPTION_ID"
	credResourceGroup   = "AZURE_RESOURCE_GROUP"
	credCloudName       = "AZURE_CLOUD_NAME"
	credStorageKey      = "AZURE_STORAGE_KEY"
	credAllowedTenants  = "AZURE_ADDITIONALLY_ALLOWED_TENANTS"
	credTenantID        = "AZURE_TENANT_ID"
	credClientID        = "AZURE_CLIENT_ID"
	credClientSecret    = "AZURE_CLIENT_SECRET"
	credClientCert      = "AZURE_CLIENT_CERTIFICATE"
	credClientCertPath  = "AZURE_CLIENT_CERTIFICATE_PATH"
	credClientCertPass  = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
	credSendCertChain   = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"
	credUsername        = "AZURE_USERNAME"
	envCredentialsFile  = "AZURE_CREDENTIALS_FILE"
	envFederatedToken   = "AZURE_FEDERATED_TOKEN_FILE"
	pluginCmd           = "/plugins/velero-plugin-for-microsoft-azure"
	pluginName          = "velero-plugin-for-microsoft-azure"
	pluginStorageSource = "/go/src/velero-plugin-for-microsoft-azure/velero-plugin-for-microsoft-azure/util/storage.go"
)

var pluginConfigKeys = []string{cfgResourceGroup, cfgStorageAccount, cfgSubscriptionID, cfgBlockSize, cfgAuthorityURI, cfgStorageURI,
	cfgUseAAD, cfgKeyEnvVar, cfgCredentialsFile, cfgAPIVersion, "bucket", "prefix", "caCert"}

// pluginEnv is what the plugin process sees of its pod: the velero container's environment, the
// files it can read (the BSL credential Velero wrote, secret volumes) and the host path of the
// projected service-account token.
type pluginEnv struct {
	env map[string]string
	// readFile reads a file as the pod would, or fails as os.ReadFile does.
	readFile func(path string) ([]byte, error)
	// tokenFile is the host path of AZURE_FEDERATED_TOKEN_FILE's content.
	tokenFile string
}

// objectStore is the azure plugin's ObjectStore after Init: a blob service client.
type objectStore struct {
	client *azblob.Client
}

// pluginLog logs as the azure plugin does inside Velero's server log.
func pluginLog(log *logrus.Entry, line int) *logrus.Entry {
	return log.WithFields(logrus.Fields{"cmd": pluginCmd, "pluginName": pluginName, "logSource": fmt.Sprintf("%s:%d", pluginStorageSource, line)})
}

// initObjectStore is the plugin's ObjectStore.Init: it validates the config keys and builds the
// storage client as util.NewStorageClient does (credentials, storage account URI, credential).
func initObjectStore(ctx context.Context, log *logrus.Entry, config map[string]string, pe pluginEnv, transport policy.Transporter) (*objectStore, error) {
	var invalid []string
	valid := map[string]bool{}
	for _, k := range pluginConfigKeys {
		valid[k] = true
	}
	for k := range config {
		if !valid[k] {
			invalid = append(invalid, k)
		}
	}
	if len(invalid) > 0 {
		sort.Strings(invalid)
		return nil, fmt.Errorf("config has invalid keys %v; valid keys are %v", invalid, pluginConfigKeys)
	}
	account := config[cfgStorageAccount]
	if account == "" {
		return nil, fmt.Errorf("%s is required in BSL", cfgStorageAccount)
	}
	creds, err := loadCredentials(config, pe)
	if err != nil {
		return nil, err
	}
	creds, err = storageAccountCredentials(ctx, config, creds, pe, transport)
	if err != nil {
		return nil, err
	}
	uri, _ := storageAccountURI(ctx, log, config, creds, pe, transport)
	opts, err := clientOptions(config, creds, transport)
	if err != nil {
		return nil, err
	}
	blobOpts := &azblob.ClientOptions{ClientOptions: opts}
	if key := creds[credStorageKey]; key != "" {
		pluginLog(log, 216).Info("auth with the storage account access key")
		cred, err := azblob.NewSharedKeyCredential(account, key)
		if err != nil {
			return nil, fmt.Errorf("failed to create storage account access key credential: %w", err)
		}
		client, err := azblob.NewClientWithSharedKeyCredential(uri, cred, blobOpts)
		if err != nil {
			return nil, fmt.Errorf("failed to create blob client with the storage account access key: %w", err)
		}
		return &objectStore{client: client}, nil
	}
	pluginLog(log, 229).Info("auth with Azure AD")
	cred, err := newCredential(creds, pe, opts)
	if err != nil {
		return nil, err
	}
	client, err := azblob.NewClient(uri, cred, blobOpts)
	if err != nil {
		return nil, fmt.Errorf("failed to create blob client with the Azure AD credential: %w", err)
	}
	return &objectStore{client: client}, nil
}

// loadCredentials reads the credentials file: the BSL's (config credentialsFile) or the pod's
// AZURE_CREDENTIALS_FILE, as dotenv.
func loadCredentials(config map[string]string, pe pluginEnv) (map[string]string, error) {
	file := pe.env[envCredentialsFile]
	if config[cfgCredentialsFile] != "" {
		file = config[cfgCredentialsFile]
	}
	if file == "" {
		return map[string]string{}, nil
	}
	data, err := pe.readFile(file)
	if err != nil {
		return nil, fmt.Errorf("failed to read credentials from file %s: %w", file, err)
	}
	return parseDotenv(string(data)), nil
}

// parseDotenv reads KEY=VALUE lines, skipping comments and blanks, with optional export and quotes.
func parseDotenv(data string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}

// storageAccountCredentials picks the storage access: a key from the credentials, Azure AD when
// useAAD is true, else a key exchanged through ARM (velero GetStorageAccountCredentials).
func storageAccountCredentials(ctx context.Context, config, creds map[string]string, pe pluginEnv, transport policy.Transporter) (map[string]string, error) {
	if name := config[cfgKeyEnvVar]; name != "" {
		key := creds[name]
		if key == "" {
			return nil, fmt.Errorf("no storage account access key with key %s found in credential", name)
		}
		creds[credStorageKey] = key
		return creds, nil
	}
	if v := config[cfgUseAAD]; v != "" {
		useAAD, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("failed to parse bool from useAAD string: %s", v)
		}
		if useAAD {
			return creds, nil
		}
	}
	key, err := exchangeAccessKey(ctx, config, creds, pe, transport)
	if err != nil {
		return nil, fmt.Errorf("failed to get storage account access key: %w", err)
	}
	creds[credStorageKey] = key
	return creds, nil
}

func exchangeAccessKey(ctx context.Context, config, creds map[string]string, pe pluginEnv, transport policy.Transporter) (string, error) {
	client, err := accountsClient(config, creds, pe, transport)
	if err != nil {
		return "", err
	}
	rg := fromConfigOrCreds(config, creds, cfgResourceGroup, credResourceGroup)
	if rg == "" {
		return "", errors.New("resource group is required in BSL or credential to exchange the storage account access key")
	}
	expand := "kerb"
	resp, err := client.ListKeys(ctx, rg, config[cfgStorageAccount], &armstorage.AccountsClientListKeysOptions{Expand: &expand})
	if err != nil {
		return "", fmt.Errorf("failed to list storage account access keys: %w", err)
	}
	for _, k := range resp.Keys {
		if k != nil && k.Permissions != nil && k.Value != nil && strings.EqualFold(string(*k.Permissions), string(armstorage.KeyPermissionFull)) {
			return *k.Value, nil
		}
	}
	return "", errors.New("no storage key with Full permissions found")
}

// storageAccountURI is the plugin's getStorageAccountURI: the BSL's storageAccountURI, else the
// blob endpoint from ARM's storage account properties, else the public default.
func storageAccountURI(ctx context.Context, log *logrus.Entry, config, creds map[string]string, pe pluginEnv, transport policy.Transporter) (string, error) {
	if uri := config[cfgStorageURI]; uri != "" {
		pluginLog(log, 69).Infof("the storage account URI %q is specified in the BSL, use it directly", uri)
		return uri, nil
	}
	cc, err := cloudConfig(config, creds)
	if err != nil {
		return "", err
	}
	account := config[cfgStorageAccount]
	uri := fmt.Sprintf("https://%s.%s", account, cc.Services[blobService].Endpoint)
	if name := config[cfgKeyEnvVar]; name != "" && creds[name] != "" {
		pluginLog(log, 85).Infof("auth with the storage account access key, cannot retrieve the storage account properties, fallback to use the default URI %q", uri)
		return uri, nil
	}
	client, err := accountsClient(config, creds, pe, transport)
	if err != nil {
		pluginLog(log, 91).Infof("failed to create the storage account management client: %v, fallback to use the default URI %q", err, uri)
		return uri, nil
	}
	rg := fromConfigOrCreds(config, creds, cfgResourceGroup, credResourceGroup)
	if rg == "" {
		pluginLog(log, 98).Infof("resource group isn't set which is required to retrieve the storage account properties, fallback to use the default URI %q", uri)
		return uri, nil
	}
	props, err := client.GetProperties(ctx, rg, account, nil)
	if err != nil {
		pluginLog(log, 105).Infof("failed to retrieve the storage account properties: %v, fallback to use the default URI %q", err, uri)
		return uri, nil
	}
	if props.Account.Properties == nil || props.Account.Properties.PrimaryEndpoints == nil || props.Account.Properties.PrimaryEndpoints.Blob == nil {
		return "", errors.New("the storage account properties have no primary blob endpoint")
	}
	uri = *props.Account.Properties.PrimaryEndpoints.Blob
	pluginLog(log, 110).Infof("use the storage account URI retrieved from the storage account properties %q", uri)
	return uri, nil
}

func accountsClient(config, creds map[string]string, pe pluginEnv, transport policy.Transporter) (*armstorage.AccountsClient, error) {
	opts, err := clientOptions(config, creds, transport)
	if err != nil {
		return nil, err
	}
	cred, err := newCredential(creds, pe, opts)
	if err != nil {
		return nil, fmt.Errorf("failed to create Azure AD credential: %w", err)
	}
	sub := fromConfigOrCreds(config, creds, cfgSubscriptionID, credSubscriptionID)
	if sub == "" {
		return nil, errors.New("subscription ID is required in BSL or credential to create the storage account client")
	}
	client, err := armstorage.NewAccountsClient(sub, cred, &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		return nil, fmt.Errorf("failed to create the storage account client: %w", err)
	}
	return client, nil
}

func fromConfigOrCreds(config, creds map[string]string, cfgKey, credKey string) string {
	if v := config[cfgKey]; v != "" {
		return v
	}
	return creds[credKey]
}

const blobService cloud.ServiceName = "blob"

// cloudConfig resolves AZURE_CLOUD_NAME to a cloud. The BSL's caCert is ignored: the lab's
// transport already trusts the lab CA, and replacing it would reach the real Azure.
func cloudConfig(config, creds map[string]string) (cloud.Configuration, error) {
	var cc cloud.Configuration
	blob := "blob.core.windows.net"
	switch name := creds[credCloudName]; strings.ToUpper(name) {
	case "", "AZURECLOUD", "AZUREPUBLICCLOUD":
		cc = cloud.AzurePublic
	case "AZURECHINACLOUD":
		cc, blob = cloud.AzureChina, "blob.core.chinacloudapi.cn"
	case "AZUREUSGOVERNMENT", "AZUREUSGOVERNMENTCLOUD":
		cc, blob = cloud.AzureGovernment, "blob.core.usgovcloudapi.net"
	default:
		return cloud.Configuration{}, fmt.Errorf("unknown cloud: %s", name)
	}
	services := map[cloud.ServiceName]cloud.ServiceConfiguration{}
	for k, v := range cc.Services {
		services[k] = v
	}
	services[blobService] = cloud.ServiceConfiguration{Endpoint: blob}
	cc.Services = services
	if uri := config[cfgAuthorityURI]; uri != "" {
		cc.ActiveDirectoryAuthorityHost = uri
	}
	return cc, nil
}

func clientOptions(config, creds map[string]string, transport policy.Transporter) (policy.ClientOptions, error) {
	cc, err := cloudConfig(config, creds)
	if err != nil {
		return policy.ClientOptions{}, err
	}
	opts := policy.ClientOptions{Cloud: cc, Transport: transport}
	if v := config[cfgAPIVersion]; v != "" {
		opts.APIVersion = v
	}
	return opts, nil
}

// newCredential is velero's NewCredential: a credential from the credentials file (secret or
// certificate), else workload identity when the pod has AZURE_FEDERATED_TOKEN_FILE, else managed
// identity with the credentials' client ID. The pod's env stands in for the process env azidentity
// reads, so a pod without AZURE_CLIENT_ID fails exactly as Velero does.
func newCredential(creds map[string]string, pe pluginEnv, opts policy.ClientOptions) (azcore.TokenCredential, error) {
	var tenants []string
	if t := creds[credAllowedTenants]; t != "" {
		tenants = strings.Split(t, ";")
	}
	if creds[credClientSecret] != "" || creds[credClientCert] != "" || creds[credClientCertPath] != "" || creds[credUsername] != "" {
		return configCredential(creds, pe, tenants, opts)
	}
	if pe.env[envFederatedToken] != "" {
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions:              opts,
			AdditionallyAllowedTenants: tenants,
			ClientID:                   pe.env[credClientID],
			TenantID:                   pe.env[credTenantID],
			TokenFilePath:              pe.tokenFile,
		})
	}
	return azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts, ID: azidentity.ClientID(creds[credClientID])})
}

func configCredential(creds map[string]string, pe pluginEnv, tenants []string, opts policy.ClientOptions) (azcore.TokenCredential, error) {
	tenant, client := creds[credTenantID], creds[credClientID]
	if tenant == "" {
		return nil, fmt.Errorf("%s is required", credTenantID)
	}
	if client == "" {
		return nil, fmt.Errorf("%s is required", credClientID)
	}
	if secret := creds[credClientSecret]; secret != "" {
		return azidentity.NewClientSecretCredential(tenant, client, secret, &azidentity.ClientSecretCredentialOptions{ClientOptions: opts, AdditionallyAllowedTenants: tenants})
	}
	raw, path := []byte(creds[credClientCert]), creds[credClientCertPath]
	if len(raw) > 0 || path != "" {
		if len(raw) == 0 {
			var err error
			if raw, err = pe.readFile(path); err != nil {
				return nil, fmt.Errorf("failed to read certificate file %s: %w", path, err)
			}
		}
		var password []byte
		if v := creds[credClientCertPass]; v != "" {
			password = []byte(v)
		}
		certs, key, err := azidentity.ParseCertificates(raw, password)
		if err != nil {
			return nil, fmt.Errorf("failed to parse certificate: %w", err)
		}
		o := &azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, AdditionallyAllowedTenants: tenants}
		if v, ok := creds[credSendCertChain]; ok {
			o.SendCertificateChain = v == "1" || strings.EqualFold(v, "true")
		}
		return azidentity.NewClientCertificateCredential(tenant, client, certs, key, o)
	}
	return nil, errors.New("incomplete credential configuration. Only AZURE_TENANT_ID and AZURE_CLIENT_ID are set")
}

// listCommonPrefixes is the plugin's ListCommonPrefixes: a hierarchical listing of the container.
func (o *objectStore) listCommonPrefixes(ctx context.Context, bucket, prefix, delimiter string) ([]string, error) {
	pager := o.client.ServiceClient().NewContainerClient(bucket).NewListBlobsHierarchyPager(delimiter, &container.ListBlobsHierarchyOptions{Prefix: &prefix})
	var prefixes []string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Segment.BlobPrefixes {
			if p.Name != nil {
				prefixes = append(prefixes, *p.Name)
			}
		}
	}
	return prefixes, nil
}

// noSuchFile is the error os.ReadFile gives for a path that does not exist.
func noSuchFile(path string) error {
	return &os.PathError{Op: "open", Path: filepath.Clean(path), Err: syscall.ENOENT}
}
