// Package azurelab is the lab's Azure: an ARM double and an Entra ID token-endpoint double sharing one
// in-memory state, which tests switch between named scenarios. Both speak the real wire formats, so
// the plugin's real SDK clients (azidentity, the ARM modules) run against them unchanged.
package azurelab

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Lab identities and resources. The names match the e2e fixture and the plugin's tests.
const (
	Subscription      = "00000000-0000-0000-0000-000000000001"
	ResourceGroup     = "lab-rg"
	ClusterName       = "lab-aks"
	NodeResourceGroup = "MC_lab-rg_lab-aks_eastus"
	ClusterID         = "/subscriptions/" + Subscription + "/resourceGroups/" + ResourceGroup + "/providers/Microsoft.ContainerService/managedClusters/" + ClusterName
	IdentityName      = "azure-aks-backup"
	IdentityID        = "/subscriptions/" + Subscription + "/resourceGroups/" + NodeResourceGroup + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + IdentityName
	IdentityClientID  = "c0ffee00-aaaa-4bbb-8ccc-000000000001"
	IdentityPrincipal = "c0ffee00-aaaa-4bbb-8ccc-0000000000aa"
	AccountName       = "labstorage"
	AccountID         = "/subscriptions/" + Subscription + "/resourceGroups/" + ResourceGroup + "/providers/Microsoft.Storage/storageAccounts/" + AccountName
	SiblingAccountID  = "/subscriptions/" + Subscription + "/resourceGroups/" + ResourceGroup + "/providers/Microsoft.Storage/storageAccounts/labstorage2"
	Container         = "velero"
	VaultID           = "/subscriptions/" + Subscription + "/resourceGroups/" + ResourceGroup + "/providers/Microsoft.DataProtection/backupVaults/lab-vault"
	AdminClientID     = "adadadad-0000-4000-8000-000000000001"
	AdminObjectID     = "adadadad-0000-4000-8000-0000000000aa"
	RoleDefPrefix     = "/subscriptions/" + Subscription + "/providers/Microsoft.Authorization/roleDefinitions/"
	BlobDataContrib   = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
	AccountContrib    = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
	Owner             = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	Contributor       = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	Audience          = "api://AzureADTokenExchange"
)

// Credential is a federated identity credential.
type Credential struct {
	Name      string   `json:"name"`
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

// AzuriteAccountKey is the key of Azurite's devstoreaccount1: public and documented by Azurite, not a
// secret. ARM's listKeys hands it out, as Azure hands out an account's keys.
const AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// Assignment is a role assignment.
type Assignment struct {
	Name        string `json:"name"`
	Scope       string `json:"scope"`
	RoleID      string `json:"roleDefinitionId"`
	PrincipalID string `json:"principalId"`
}

// RoleDefinition is a role and its permissions.
type RoleDefinition struct {
	Name        string   `json:"roleName"`
	Actions     []string `json:"actions"`
	NotActions  []string `json:"notActions,omitempty"`
	DataActions []string `json:"dataActions"`
}

// Account is a storage account.
type Account struct {
	ID                   string   `json:"id"`
	AllowSharedKeyAccess bool     `json:"allowSharedKeyAccess"`
	PublicNetworkAccess  string   `json:"publicNetworkAccess"`
	DefaultAction        string   `json:"defaultAction"`
	IPRules              []string `json:"ipRules"`
	Containers           []string `json:"containers"`
	BlobEndpoint         string   `json:"blobEndpoint"`
}

// Binding is a Trusted Access role binding.
type Binding struct {
	Name   string   `json:"name"`
	Source string   `json:"sourceResourceId"`
	Roles  []string `json:"roles"`
}

// Fault makes ARM answer an error for matching requests, Times times (0 = always).
type Fault struct {
	Method       string `json:"method"`
	PathContains string `json:"pathContains"`
	Status       int    `json:"status"`
	Code         string `json:"code"`
	Times        int    `json:"times"`
	hits         int
}

// State is everything the doubles serve.
type State struct {
	TenantID          string                    `json:"tenantId"`
	Issuer            string                    `json:"issuer"`
	OIDCIssuerEnabled bool                      `json:"oidcIssuerEnabled"`
	WorkloadIdentity  bool                      `json:"workloadIdentity"`
	ExtensionState    string                    `json:"extensionState"`
	ExtensionSettings map[string]string         `json:"extensionSettings"`
	Credentials       []Credential              `json:"credentials"`
	Assignments       []Assignment              `json:"assignments"`
	Roles             map[string]RoleDefinition `json:"roles"`
	Accounts          []Account                 `json:"accounts"`
	Bindings          []Binding                 `json:"bindings"`
	AdminSecret       string                    `json:"adminSecret"`
	Faults            []*Fault                  `json:"faults"`
	// Providers are the subscription's resource provider states by namespace (lower case); an
	// absent namespace is Registered.
	Providers map[string]string `json:"providers,omitempty"`
	// Writes records every write ARM accepted ("PUT <path>"), so tests can assert that none happened.
	Writes []string `json:"writes"`
	// VeleroCredentials are the federated credentials of Velero's own identity (velero.go).
	VeleroCredentials []Credential `json:"veleroCredentials"`
	// ExtraClusters are the subscription's AKS clusters besides lab-aks: the lab's extra API servers,
	// which scenarios keep (they are the lab's topology, not a scenario's).
	ExtraClusters []ManagedCluster `json:"extraClusters,omitempty"`
}

// ManagedCluster is another AKS cluster of the lab subscription, backed by one of the lab's extra
// API servers (its issuer); the extension is installed and Succeeded on each.
type ManagedCluster struct {
	Name              string `json:"name"`
	ResourceGroup     string `json:"resourceGroup"`
	Location          string `json:"location"`
	Issuer            string `json:"issuer"`
	OIDCIssuerEnabled bool   `json:"oidcIssuerEnabled"`
	WorkloadIdentity  bool   `json:"workloadIdentity"`
	ExtensionState    string `json:"extensionState"`
}

// ID is the cluster's ARM ID.
func (c ManagedCluster) ID() string {
	return "/subscriptions/" + Subscription + "/resourceGroups/" + c.ResourceGroup + "/providers/Microsoft.ContainerService/managedClusters/" + c.Name
}

// ParseExtraCluster reads NAME=ISSUER (the azure command's --extra-cluster) into a cluster of the lab
// resource group with OIDC, workload identity and a Succeeded extension.
func ParseExtraCluster(v string) (ManagedCluster, error) {
	name, issuer, ok := strings.Cut(v, "=")
	if !ok || name == "" || issuer == "" {
		return ManagedCluster{}, fmt.Errorf("--extra-cluster %q: want NAME=ISSUER_URL", v)
	}
	return ManagedCluster{Name: name, ResourceGroup: ResourceGroup, Location: "eastus", Issuer: issuer, OIDCIssuerEnabled: true, WorkloadIdentity: true, ExtensionState: "Succeeded"}, nil
}

// Store guards the state.
type Store struct {
	mu sync.Mutex
	s  *State
}

// With runs fn with the state locked.
func (st *Store) With(fn func(*State)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	fn(st.s)
}

// Scenario builds a state: base "unwired" (extension installed, nothing federated or granted) or
// "wired", then the named faults on top.
func Scenario(base, namespace string, faults []string, tenant, issuer, blobEndpoint, adminSecret string) (*State, error) {
	s := &State{TenantID: tenant, Issuer: issuer, OIDCIssuerEnabled: true, WorkloadIdentity: true, ExtensionState: "Succeeded", AdminSecret: adminSecret,
		ExtensionSettings: map[string]string{
			"configuration.backupStorageLocation.bucket":                Container,
			"configuration.backupStorageLocation.config.storageAccount": AccountName,
			"configuration.backupStorageLocation.config.resourceGroup":  ResourceGroup,
			"configuration.backupStorageLocation.config.subscriptionId": Subscription,
			"configuration.backupStorageLocation.config.useAAD":         "true",
			"credentials.tenantId":                                      tenant,
		},
		Roles: map[string]RoleDefinition{
			BlobDataContrib: {Name: "Storage Blob Data Contributor", Actions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/*"},
				DataActions: []string{"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"}},
			AccountContrib: {Name: "Storage Account Contributor", Actions: []string{"Microsoft.Storage/storageAccounts/*"}},
			Owner:          {Name: "Owner", Actions: []string{"*"}},
			Contributor: {Name: "Contributor", Actions: []string{"*"},
				NotActions: []string{"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"}},
		},
		// The lab's admin app (the plugin's caller) is Owner of the subscription unless a fault says otherwise.
		Assignments: []Assignment{{Name: "lab-admin-owner", Scope: "/subscriptions/" + Subscription, RoleID: RoleDefPrefix + Owner, PrincipalID: AdminObjectID},
			{Name: "lab-admin-owner-2", Scope: "/subscriptions/" + Subscription2, RoleID: RoleDefPrefix + Owner, PrincipalID: AdminObjectID}},
		Accounts: []Account{
			{ID: AccountID, AllowSharedKeyAccess: true, PublicNetworkAccess: "Enabled", DefaultAction: "Allow", Containers: []string{Container}, BlobEndpoint: blobEndpoint},
			{ID: SiblingAccountID, AllowSharedKeyAccess: true, PublicNetworkAccess: "Enabled", DefaultAction: "Allow"},
			// Another subscription's account, served by the same Azurite container (velero.go).
			{ID: XSubAccountID, AllowSharedKeyAccess: true, PublicNetworkAccess: "Enabled", DefaultAction: "Allow", Containers: []string{Container}, BlobEndpoint: blobEndpoint},
		},
	}
	switch base {
	case "unwired":
	case "wired":
		if namespace == "" {
			namespace = "dataprotection-microsoft"
		}
		s.wire(namespace)
	default:
		return nil, fmt.Errorf("unknown scenario %q: use unwired or wired", base)
	}
	for _, f := range faults {
		if err := s.apply(f); err != nil {
			return nil, err
		}
	}
	return s, nil
}

var serviceAccounts = []string{"dataprotection-microsoft-controller-sa", "dataprotection-microsoft-kubernetes-agent-server", "dataprotection-microsoft-geneva-sa"}

func (s *State) wire(ns string) {
	for _, sa := range serviceAccounts {
		s.Credentials = append(s.Credentials, Credential{Name: "aksbackup-" + sa, Issuer: s.Issuer, Subject: "system:serviceaccount:" + ns + ":" + sa, Audiences: []string{Audience}})
	}
	s.Assignments = append(s.Assignments,
		Assignment{Name: "lab-blob", Scope: AccountID, RoleID: RoleDefPrefix + BlobDataContrib, PrincipalID: IdentityPrincipal},
		Assignment{Name: "lab-account", Scope: AccountID, RoleID: RoleDefPrefix + AccountContrib, PrincipalID: IdentityPrincipal})
}

// Faults names the scenario faults tests can apply.
var Faults = []string{"issuer-no-trailing-slash", "subject-wrong-namespace", "audience-wrong", "role-sibling-scope", "role-account-contributor-only",
	"oidc-issuer-disabled", "workload-identity-disabled", "extension-failed", "network-deny", "shared-key-disabled", "container-missing",
	"caller-contributor", "provider-dataprotection-unregistered"}

func (s *State) apply(fault string) error {
	switch fault {
	case "issuer-no-trailing-slash":
		for i := range s.Credentials {
			s.Credentials[i].Issuer = strings.TrimSuffix(s.Issuer, "/")
		}
		if !strings.HasSuffix(s.Issuer, "/") {
			for i := range s.Credentials {
				s.Credentials[i].Issuer = s.Issuer + "/"
			}
		}
	case "subject-wrong-namespace":
		for i := range s.Credentials {
			parts := strings.Split(s.Credentials[i].Subject, ":")
			if len(parts) == 4 {
				parts[2] = "velero"
			}
			s.Credentials[i].Subject = strings.Join(parts, ":")
		}
	case "audience-wrong":
		for i := range s.Credentials {
			s.Credentials[i].Audiences = []string{"api://AzureADTokenExchangeX"}
		}
	case "role-sibling-scope":
		for i := range s.Assignments {
			if s.Assignments[i].RoleID == RoleDefPrefix+BlobDataContrib {
				s.Assignments[i].Scope = SiblingAccountID
			}
		}
	case "role-account-contributor-only":
		kept := s.Assignments[:0]
		for _, a := range s.Assignments {
			if a.RoleID != RoleDefPrefix+BlobDataContrib {
				kept = append(kept, a)
			}
		}
		s.Assignments = kept
	case "oidc-issuer-disabled":
		s.OIDCIssuerEnabled = false
	case "workload-identity-disabled":
		s.WorkloadIdentity = false
	case "extension-failed":
		s.ExtensionState = "Failed"
	case "network-deny":
		s.Accounts[0].DefaultAction = "Deny"
	case "shared-key-disabled":
		s.Accounts[0].AllowSharedKeyAccess = false
		s.ExtensionSettings["configuration.backupStorageLocation.config.useAAD"] = "false"
	case "container-missing":
		s.Accounts[0].Containers = nil
	case "caller-contributor":
		// Contributor may create federated credentials but, by its notActions, no role assignments.
		for i := range s.Assignments {
			if s.Assignments[i].PrincipalID == AdminObjectID {
				s.Assignments[i].RoleID = RoleDefPrefix + Contributor
			}
		}
	case "provider-dataprotection-unregistered":
		if s.Providers == nil {
			s.Providers = map[string]string{}
		}
		s.Providers["microsoft.dataprotection"] = "NotRegistered"
	default:
		return fmt.Errorf("unknown fault %q: use one of %s", fault, strings.Join(Faults, ", "))
	}
	return nil
}

func (s *State) account(id string) *Account {
	for i := range s.Accounts {
		if strings.EqualFold(s.Accounts[i].ID, id) {
			return &s.Accounts[i]
		}
	}
	return nil
}

func mustJSON(v any) []byte {
	data, _ := json.Marshal(v)
	return data
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
