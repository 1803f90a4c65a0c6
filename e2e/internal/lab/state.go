// Package lab boots and stops the local lab: etcd, the Kubernetes control plane, kwok, the
// workload-identity webhook double, the Azure doubles with Azurite, and the Velero double that
// validates BackupStorageLocations, as detached processes on free loopback ports.
package lab

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/fixture"
)

// Lab-wide constants the fixture, doubles and tests share.
const (
	TenantID      = "11111111-2222-3333-4444-555555555555"
	AuthorityHost = "https://login.microsoftonline.com/"
	NodeName      = "lab-node-0"
	// Kubeconfig names follow `az aks get-credentials`, so the plugin can infer the AKS cluster.
	ClusterName   = "lab-aks"
	ResourceGroup = "lab-rg"
	Subscription  = "00000000-0000-0000-0000-000000000001"
	AdminClientID = "adadadad-0000-4000-8000-000000000001"
)

// State is lab.json: where everything runs. It never holds the admin token itself.
type State struct {
	Dir          string `json:"dir"`
	BinDir       string `json:"binDir"`
	Kubeconfig   string `json:"kubeconfig"`
	APIServerURL string `json:"apiServerURL"`
	IssuerURL    string `json:"issuerURL"`
	CAFile       string `json:"caFile"`
	TokenFile    string `json:"tokenFile"`
	CRDFile      string `json:"crdFile"`
	TenantID     string `json:"tenantID"`
	// Azure doubles: ARM and Entra URLs, the custom-cloud file for --cloud-config, and the admin
	// app's secret file (read by tests and the demo into AZURE_CLIENT_SECRET, never printed).
	ARMURL          string `json:"armURL"`
	EntraURL        string `json:"entraURL"`
	CloudConfig     string `json:"cloudConfig"`
	AdminClientID   string `json:"adminClientID"`
	AdminSecretFile string `json:"adminSecretFile"`
	Subscription    string `json:"subscription"`
	// BlobURL is the blob front before Azurite, path-style: <BlobURL>devstoreaccount1/<container>/<blob>.
	BlobURL string `json:"blobURL,omitempty"`
	// IMDSURL is the Instance Metadata Service double (plain HTTP, as IMDS).
	IMDSURL string `json:"imdsURL,omitempty"`
	// VeleroLogDir holds the velero double's per-pod CRI log files, which kwok serves to kubectl logs.
	VeleroLogDir string `json:"veleroLogDir,omitempty"`
	// RealNode is the kubelet node beside the kwok node (nil when the lab runs without one).
	RealNode *RealNode `json:"realNode,omitempty"`
	// Pod* are the doubles as pods on the real node reach them: on the lab bridge's gateway address.
	PodEntraURL string         `json:"podEntraURL,omitempty"`
	PodARMURL   string         `json:"podARMURL,omitempty"`
	PodBlobURL  string         `json:"podBlobURL,omitempty"`
	PodIMDSURL  string         `json:"podIMDSURL,omitempty"`
	Ports       map[string]int `json:"ports"`
	PIDs        map[string]int `json:"pids"`
	BootSeconds float64        `json:"bootSeconds"`
	// Cloud is the lab cloud's name (default or custom), StorageSuffix and ARMAudience its names.
	Cloud         string `json:"cloud,omitempty"`
	StorageSuffix string `json:"storageSuffix,omitempty"`
	ARMAudience   string `json:"armAudience,omitempty"`
	// ExtraClusters are the fleet's other API servers (extra.go), each a context of the kubeconfig.
	ExtraClusters []ExtraCluster `json:"extraClusters,omitempty"`
}

// StateFile is the path of lab.json in a lab directory.
func StateFile(dir string) string { return filepath.Join(dir, "lab.json") }

// Load reads lab.json.
func Load(dir string) (*State, error) {
	data, err := os.ReadFile(StateFile(dir))
	if err != nil {
		return nil, fmt.Errorf("no lab in %s (run `make lab-up`): %w", dir, err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s is corrupt: %w", StateFile(dir), err)
	}
	return &s, nil
}

// Save writes lab.json.
func (s *State) Save() error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(StateFile(s.Dir), data, 0o600)
}

// StorageAccountURI is what the fixture's BSL names: the blob front on the bridge gateway when a
// real node runs (a pod there must reach it; the velero double and the plugin reach it too), else
// the loopback placeholder the velero double maps to the front.
func (s *State) StorageAccountURI() string {
	if s.PodBlobURL != "" {
		return s.PodBlobURL + "devstoreaccount1"
	}
	return fixture.DefaultStorageAccountURI
}
