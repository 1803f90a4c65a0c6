package lab

import (
	"fmt"
	"strings"
)

// Cloud is the set of names the lab's Azure doubles answer to, written into the custom-cloud file
// the plugin reads (--cloud-config).
type Cloud struct {
	// Name is "default" or "custom".
	Name string
	// ARMAudience is the token audience ARM accepts from the plugin.
	ARMAudience string
	// StorageSuffix is the cloud's storage suffix; blob hosts are <account>.blob.<suffix>.
	StorageSuffix string
}

// Clouds the lab boots with. "custom" renames everything a tool could hard-code from the public
// cloud (the ARM audience, the storage suffix; ARM and Entra always live on loopback URLs), so a
// public name left in the tool fails a test instead of passing by accident.
var (
	CloudDefault = Cloud{Name: "default", ARMAudience: "https://management.azure.com/", StorageSuffix: "lab.local"}
	CloudCustom  = Cloud{Name: "custom", ARMAudience: "https://arm.aksbackup-lab.example/", StorageSuffix: "core.aksbackup-lab.example"}
)

// ParseCloud reads --cloud / AKSBACKUP_LAB_CLOUD ("" is default).
func ParseCloud(name string) (Cloud, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "default":
		return CloudDefault, nil
	case "custom":
		return CloudCustom, nil
	}
	return Cloud{}, fmt.Errorf("unknown lab cloud %q: use default or custom", name)
}

// velerolabSuffix is the storage suffix whose blob hosts the Velero double maps to the blob front:
// the public one, as in Azure, unless the lab runs a custom cloud.
func velerolabSuffix(c Cloud) string {
	if c.Name == CloudCustom.Name {
		return c.StorageSuffix
	}
	return "core.windows.net"
}
