package azure

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

// Cloud is an Azure cloud: its ARM endpoint, Entra authority and storage suffix.
type Cloud struct {
	Name string `json:"name"`
	// ResourceManagerEndpoint, e.g. https://management.azure.com/
	ResourceManagerEndpoint string `json:"resourceManagerEndpoint"`
	// ResourceManagerAudience, e.g. https://management.core.windows.net/
	ResourceManagerAudience string `json:"resourceManagerAudience"`
	// ActiveDirectoryAuthorityHost, e.g. https://login.microsoftonline.com/
	ActiveDirectoryAuthorityHost string `json:"activeDirectoryAuthorityHost"`
	// StorageSuffix, e.g. core.windows.net
	StorageSuffix string `json:"storageSuffix"`
	// Custom clouds (Azure Stack, sovereign or test endpoints) have no instance-discovery service.
	Custom bool `json:"-"`
}

var knownClouds = map[string]Cloud{
	"AzurePublic":       {Name: "AzurePublic", ResourceManagerEndpoint: cloud.AzurePublic.Services[cloud.ResourceManager].Endpoint, ResourceManagerAudience: cloud.AzurePublic.Services[cloud.ResourceManager].Audience, ActiveDirectoryAuthorityHost: cloud.AzurePublic.ActiveDirectoryAuthorityHost, StorageSuffix: "core.windows.net"},
	"AzureUSGovernment": {Name: "AzureUSGovernment", ResourceManagerEndpoint: cloud.AzureGovernment.Services[cloud.ResourceManager].Endpoint, ResourceManagerAudience: cloud.AzureGovernment.Services[cloud.ResourceManager].Audience, ActiveDirectoryAuthorityHost: cloud.AzureGovernment.ActiveDirectoryAuthorityHost, StorageSuffix: "core.usgovcloudapi.net"},
	"AzureChina":        {Name: "AzureChina", ResourceManagerEndpoint: cloud.AzureChina.Services[cloud.ResourceManager].Endpoint, ResourceManagerAudience: cloud.AzureChina.Services[cloud.ResourceManager].Audience, ActiveDirectoryAuthorityHost: cloud.AzureChina.ActiveDirectoryAuthorityHost, StorageSuffix: "core.chinacloudapi.cn"},
}

// CloudNames lists the built-in clouds for help and completion.
func CloudNames() []string {
	names := make([]string, 0, len(knownClouds))
	for n := range knownClouds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ResolveCloud picks a built-in cloud by name (case-insensitive, "" = AzurePublic), or reads a custom
// cloud from a JSON file with the fields of Cloud.
func ResolveCloud(name, configFile string) (Cloud, error) {
	if configFile != "" {
		data, err := os.ReadFile(configFile)
		if err != nil {
			return Cloud{}, fmt.Errorf("reading --cloud-config: %w", err)
		}
		var c Cloud
		if err := json.Unmarshal(data, &c); err != nil {
			return Cloud{}, fmt.Errorf("--cloud-config %s is not valid JSON: %w", configFile, err)
		}
		var missing []string
		for field, v := range map[string]string{"resourceManagerEndpoint": c.ResourceManagerEndpoint, "activeDirectoryAuthorityHost": c.ActiveDirectoryAuthorityHost} {
			if v == "" {
				missing = append(missing, field)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return Cloud{}, fmt.Errorf("--cloud-config %s lacks %s", configFile, strings.Join(missing, ", "))
		}
		for _, field := range []struct{ name, value string }{
			{"resourceManagerEndpoint", c.ResourceManagerEndpoint},
			{"activeDirectoryAuthorityHost", c.ActiveDirectoryAuthorityHost},
		} {
			if err := checkHTTPS(field.value); err != nil {
				return Cloud{}, fmt.Errorf("--cloud-config %s: %s %q %w; tokens are sent to it, so use an https:// URL", configFile, field.name, field.value, err)
			}
		}
		if c.ResourceManagerAudience == "" {
			c.ResourceManagerAudience = c.ResourceManagerEndpoint
		}
		if c.Name == "" {
			c.Name = "custom"
		}
		c.Custom = true
		return c, nil
	}
	if name == "" {
		name = "AzurePublic"
	}
	for n, c := range knownClouds {
		if strings.EqualFold(n, name) {
			return c, nil
		}
	}
	return Cloud{}, fmt.Errorf("unknown cloud %q: use one of %s, or --cloud-config FILE for a custom cloud", name, strings.Join(CloudNames(), ", "))
}

// checkHTTPS accepts an absolute https URL with a host.
func checkHTTPS(endpoint string) error {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return fmt.Errorf("is not a URL (%v)", err)
	case !strings.EqualFold(u.Scheme, "https"):
		return fmt.Errorf("is not https")
	case u.Host == "":
		return fmt.Errorf("has no host")
	}
	return nil
}

// sdkConfig converts to the SDK's cloud configuration.
func (c Cloud) sdkConfig() cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: c.ActiveDirectoryAuthorityHost,
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: c.ResourceManagerEndpoint, Audience: c.ResourceManagerAudience},
		},
	}
}
