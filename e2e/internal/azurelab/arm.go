package azurelab

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// ARM serves the Azure Resource Manager endpoints the plugin calls, in ARM's JSON shapes.
type ARM struct {
	Store *Store
	// Audience, when set, is the only token audience accepted from loopback clients (a custom
	// cloud); public-host clients (the velero double) keep the public one. StorageSuffix names
	// public-host clients' blob endpoints ("" = core.windows.net).
	Audience, StorageSuffix string
	// graph is the Resource Graph double's page size and query counter (resourcegraph.go).
	graph resourceGraph
}

var (
	reCluster    = regexp.MustCompile(`^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.containerservice/managedclusters/[^/]+$`)
	reBindings   = regexp.MustCompile(`/managedclusters/[^/]+/trustedaccessrolebindings(/([^/]+))?$`)
	reExtensions = regexp.MustCompile(`/providers/microsoft\.kubernetesconfiguration/extensions$`)
	reIdentities = regexp.MustCompile(`^/subscriptions/[^/]+/providers/microsoft\.managedidentity/userassignedidentities$`)
	reIdentity   = regexp.MustCompile(`^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.managedidentity/userassignedidentities/[^/]+$`)
	reFICs       = regexp.MustCompile(`/userassignedidentities/[^/]+/federatedidentitycredentials(/([^/]+))?$`)
	reAssignList = regexp.MustCompile(`(?i)^(.*)/providers/microsoft\.authorization/roleassignments$`)
	reAssignPut  = regexp.MustCompile(`(?i)^(.*)/providers/microsoft\.authorization/roleassignments/([^/]+)$`)
	reRoleDef    = regexp.MustCompile(`/providers/microsoft\.authorization/roledefinitions/([^/]+)$`)
	reContainer  = regexp.MustCompile(`(?i)^(/subscriptions/.+/storageaccounts/[^/]+)/blobservices/default/containers/([^/]+)$`)
	reAccount    = regexp.MustCompile(`^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.storage/storageaccounts/[^/]+$`)
	reListKeys   = regexp.MustCompile(`^(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.storage/storageaccounts/[^/]+)/listkeys$`)
	reVault      = regexp.MustCompile(`^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.dataprotection/backupvaults/[^/]+$`)
)

func armError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-ms-failure-cause", "gateway")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(map[string]any{"error": map[string]string{"code": code, "message": message}}))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(v))
}

// tokenClaims decodes a JWT's payload without verifying it: the Entra double issued it.
func tokenClaims(r *http.Request) map[string]any {
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(auth, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return nil
	}
	return claims
}

func (a *ARM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_lab/resourcegraph" {
		a.graph.serveSettings(w, r)
		return
	}
	claims := tokenClaims(r)
	if aud, _ := claims["aud"].(string); !a.audienceOK(aud, r.Host) {
		armError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is missing or invalid.")
		return
	}
	caller, _ := claims["oid"].(string)
	path := strings.TrimRight(r.URL.Path, "/")
	lower := strings.ToLower(path)
	var handled bool
	a.Store.With(func(s *State) {
		for _, f := range s.Faults {
			if (f.Method == "" || f.Method == r.Method) && strings.Contains(lower, strings.ToLower(f.PathContains)) && (f.Times == 0 || f.hits < f.Times) {
				f.hits++
				if f.Status == http.StatusTooManyRequests || f.Status >= 500 {
					w.Header().Set("Retry-After", "0")
				}
				msg := "Injected by the lab."
				if f.Status == http.StatusForbidden {
					msg = fmt.Sprintf("The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
						caller, caller, actionFor(r.Method, path), path)
				}
				armError(w, f.Status, f.Code, msg)
				handled = true
				return
			}
		}
		handled = a.route(w, r, s, path, lower)
	})
	if !handled {
		armError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The Resource '%s' was not found.", path))
	}
}

// actionFor names the ARM action of a request, as AuthorizationFailed messages do.
func actionFor(method, path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var typ []string
	for i := 0; i < len(parts); i++ {
		if strings.EqualFold(parts[i], "providers") && i+1 < len(parts) {
			typ = []string{parts[i+1]}
			for j := i + 2; j < len(parts); j += 2 {
				typ = append(typ, parts[j])
			}
		}
	}
	verb := "read"
	switch method {
	case http.MethodPut:
		verb = "write"
	case http.MethodDelete:
		verb = "delete"
	}
	return strings.Join(append(typ, verb), "/")
}

func (a *ARM) route(w http.ResponseWriter, r *http.Request, s *State, path, lower string) bool {
	if routeAuthorization(w, r, s, path) {
		return true
	}
	switch {
	case lower == resourceGraphPath && r.Method == http.MethodPost:
		a.resourceGraph(w, r, s)
	case reCluster.MatchString(lower) && r.Method == http.MethodGet:
		if !strings.EqualFold(path, ClusterID) {
			return false
		}
		issuer := ""
		if s.OIDCIssuerEnabled {
			issuer = s.Issuer
		}
		writeJSON(w, 200, map[string]any{"id": ClusterID, "name": ClusterName, "location": "eastus",
			"identity": map[string]any{"type": "SystemAssigned", "principalId": "c1c1c1c1-0000-4000-8000-000000000001", "tenantId": s.TenantID},
			"properties": map[string]any{"provisioningState": "Succeeded", "nodeResourceGroup": NodeResourceGroup,
				"oidcIssuerProfile":       map[string]any{"enabled": s.OIDCIssuerEnabled, "issuerURL": issuer},
				"securityProfile":         map[string]any{"workloadIdentity": map[string]any{"enabled": s.WorkloadIdentity}},
				"servicePrincipalProfile": map[string]any{"clientId": "msi"}}})
	case reBindings.MatchString(lower):
		m := reBindings.FindStringSubmatch(lower)
		name := ""
		if m[2] != "" {
			name = path[len(path)-len(m[2]):]
		}
		return a.bindings(w, r, s, name)
	case reExtensions.MatchString(lower) && r.Method == http.MethodGet:
		ext := map[string]any{"id": ClusterID + "/providers/Microsoft.KubernetesConfiguration/extensions/azure-aks-backup", "name": "azure-aks-backup",
			"properties": map[string]any{"extensionType": "microsoft.dataprotection.kubernetes", "provisioningState": s.ExtensionState,
				"configurationSettings": s.ExtensionSettings,
				"aksAssignedIdentity":   map[string]any{"principalId": IdentityPrincipal, "tenantId": s.TenantID, "type": "SystemAssigned"}}}
		writeJSON(w, 200, map[string]any{"value": []any{ext}})
	case reIdentities.MatchString(lower) && r.Method == http.MethodGet:
		s.listIdentities(w, lower)
	case reIdentity.MatchString(lower) && r.Method == http.MethodGet:
		return s.getIdentity(w, lower)
	case reFICs.MatchString(lower):
		return a.credentials(w, r, s, path, lower)
	case reAssignList.MatchString(lower) && r.Method == http.MethodGet:
		scope := reAssignList.FindStringSubmatch(path)[1]
		filter := r.URL.Query().Get("$filter")
		var out []any
		for _, as := range s.Assignments {
			if strings.Contains(filter, "principalId eq") && !strings.Contains(strings.ToLower(filter), strings.ToLower(as.PrincipalID)) {
				continue
			}
			if encloses(as.Scope, scope) || encloses(scope, as.Scope) {
				out = append(out, assignmentJSON(as))
			}
		}
		writeJSON(w, 200, map[string]any{"value": out})
	case reAssignPut.MatchString(lower) && r.Method == http.MethodPut:
		m := reAssignPut.FindStringSubmatch(path)
		var body struct {
			Properties struct {
				RoleDefinitionID string `json:"roleDefinitionId"`
				PrincipalID      string `json:"principalId"`
			} `json:"properties"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
			armError(w, 400, "InvalidRequestContent", err.Error())
			return true
		}
		for _, as := range s.Assignments {
			if strings.EqualFold(as.Scope, m[1]) && strings.EqualFold(as.RoleID, body.Properties.RoleDefinitionID) && strings.EqualFold(as.PrincipalID, body.Properties.PrincipalID) {
				armError(w, 409, "RoleAssignmentExists", "The role assignment already exists.")
				return true
			}
		}
		if !authorizeWrite(w, r, s, m[1], "Microsoft.Authorization/roleAssignments/write") {
			return true
		}
		as := Assignment{Name: m[2], Scope: m[1], RoleID: body.Properties.RoleDefinitionID, PrincipalID: body.Properties.PrincipalID}
		s.Assignments = append(s.Assignments, as)
		writeJSON(w, 201, assignmentJSON(as))
	case reAssignPut.MatchString(lower) && r.Method == http.MethodDelete:
		// Like ARM: authorized at the assignment's scope; 200 with the deleted assignment, 204 when absent.
		m := reAssignPut.FindStringSubmatch(path)
		if !authorizeWrite(w, r, s, m[1], "Microsoft.Authorization/roleAssignments/delete") {
			return true
		}
		for i, as := range s.Assignments {
			if strings.EqualFold(as.Scope, m[1]) && strings.EqualFold(as.Name, m[2]) {
				s.Assignments = append(s.Assignments[:i], s.Assignments[i+1:]...)
				writeJSON(w, 200, assignmentJSON(as))
				return true
			}
		}
		w.WriteHeader(http.StatusNoContent)
	case reRoleDef.MatchString(lower) && r.Method == http.MethodGet:
		id := reRoleDef.FindStringSubmatch(lower)[1]
		rd, ok := s.Roles[id]
		if !ok {
			armError(w, 404, "RoleDefinitionDoesNotExist", "The specified role definition with ID '"+id+"' does not exist.")
			return true
		}
		writeJSON(w, 200, map[string]any{"id": RoleDefPrefix + id, "name": id, "type": "Microsoft.Authorization/roleDefinitions",
			"properties": map[string]any{"roleName": rd.Name, "type": "BuiltInRole", "permissions": []any{map[string]any{"actions": rd.Actions, "notActions": nonNil(rd.NotActions), "dataActions": nonNil(rd.DataActions), "notDataActions": []string{}}}}})
	case reContainer.MatchString(lower) && r.Method == http.MethodGet:
		m := reContainer.FindStringSubmatch(path)
		acc := s.account(m[1])
		if acc == nil {
			armError(w, 404, "ResourceNotFound", "The Resource '"+m[1]+"' was not found.")
			return true
		}
		for _, c := range acc.Containers {
			if strings.EqualFold(c, m[2]) {
				writeJSON(w, 200, map[string]any{"id": path, "name": c, "type": "Microsoft.Storage/storageAccounts/blobServices/containers", "properties": map[string]any{}})
				return true
			}
		}
		armError(w, 404, "ContainerNotFound", "The specified container does not exist.")
	case reAccount.MatchString(lower) && r.Method == http.MethodGet:
		acc := s.account(path)
		if acc == nil {
			return false
		}
		var ipRules []any
		for _, ip := range acc.IPRules {
			ipRules = append(ipRules, map[string]any{"value": ip, "action": "Allow"})
		}
		writeJSON(w, 200, map[string]any{"id": acc.ID, "name": path[strings.LastIndex(path, "/")+1:], "location": "eastus", "kind": "StorageV2",
			"properties": map[string]any{"allowSharedKeyAccess": acc.AllowSharedKeyAccess, "publicNetworkAccess": acc.PublicNetworkAccess,
				"networkAcls":      map[string]any{"defaultAction": acc.DefaultAction, "bypass": "AzureServices", "ipRules": ipRules, "virtualNetworkRules": []any{}},
				"primaryEndpoints": map[string]any{"blob": a.blobEndpoint(r, *acc, path)}}})
	case reListKeys.MatchString(lower) && r.Method == http.MethodPost:
		// Velero (and the probe) list the keys as the identity when useAAD is not true.
		acc := s.account(path[:len(path)-len("/listKeys")])
		if acc == nil {
			return false
		}
		const action = "Microsoft.Storage/storageAccounts/listKeys/action"
		if caller, _ := tokenClaims(r)["oid"].(string); !grantsAction(s.Assignments, s.Roles, caller, acc.ID, action) {
			armError(w, http.StatusForbidden, "AuthorizationFailed", fmt.Sprintf("The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid.",
				caller, caller, action, acc.ID))
			return true
		}
		writeJSON(w, 200, map[string]any{"keys": []any{map[string]any{"keyName": "key1", "value": AzuriteAccountKey, "permissions": "FULL"}}})
	case reVault.MatchString(lower) && r.Method == http.MethodGet:
		if !strings.EqualFold(path, VaultID) {
			return false
		}
		writeJSON(w, 200, map[string]any{"id": VaultID, "name": "lab-vault", "location": "eastus",
			"identity": map[string]any{"type": "SystemAssigned", "principalId": "babababa-0000-4000-8000-000000000001"}})
	default:
		return false
	}
	return true
}

func (a *ARM) bindings(w http.ResponseWriter, r *http.Request, s *State, name string) bool {
	toJSON := func(b Binding) any {
		return map[string]any{"id": ClusterID + "/trustedAccessRoleBindings/" + b.Name, "name": b.Name,
			"properties": map[string]any{"sourceResourceId": b.Source, "roles": b.Roles, "provisioningState": "Succeeded"}}
	}
	switch {
	case r.Method == http.MethodGet && name == "":
		var out []any
		for _, b := range s.Bindings {
			out = append(out, toJSON(b))
		}
		writeJSON(w, 200, map[string]any{"value": out})
	case r.Method == http.MethodPut && name != "":
		var body struct {
			Properties struct {
				SourceResourceID string   `json:"sourceResourceId"`
				Roles            []string `json:"roles"`
			} `json:"properties"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
			armError(w, 400, "InvalidRequestContent", err.Error())
			return true
		}
		if !authorizeWrite(w, r, s, ClusterID, "Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings/write") {
			return true
		}
		b := Binding{Name: name, Source: body.Properties.SourceResourceID, Roles: body.Properties.Roles}
		s.Bindings = append(s.Bindings, b)
		writeJSON(w, 200, toJSON(b))
	default:
		return false
	}
	return true
}

var ficName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$`)

func (a *ARM) credentials(w http.ResponseWriter, r *http.Request, s *State, path, lower string) bool {
	ident := s.identityAt(lower)
	if ident == nil {
		return false
	}
	identityID, creds := ident.ID, ident.credentials
	toJSON := func(c Credential) any {
		return map[string]any{"id": identityID + "/federatedIdentityCredentials/" + c.Name, "name": c.Name,
			"properties": map[string]any{"issuer": c.Issuer, "subject": c.Subject, "audiences": c.Audiences}}
	}
	m := reFICs.FindStringSubmatch(lower)
	switch {
	case r.Method == http.MethodGet && m[2] == "":
		var out []any
		for _, c := range *creds {
			out = append(out, toJSON(c))
		}
		writeJSON(w, 200, map[string]any{"value": out})
	case r.Method == http.MethodPut && m[2] != "":
		name := path[len(path)-len(m[2]):]
		if !ficName.MatchString(name) {
			armError(w, 400, "BadRequest", "Invalid federated identity credential name '"+name+"'.")
			return true
		}
		var body struct {
			Properties Credential `json:"properties"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
			armError(w, 400, "BadRequest", err.Error())
			return true
		}
		if !authorizeWrite(w, r, s, identityID, "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write") {
			return true
		}
		c := body.Properties
		c.Name = name
		for i := range *creds {
			if (*creds)[i].Name == name {
				(*creds)[i] = c
				writeJSON(w, 200, toJSON(c))
				return true
			}
		}
		*creds = append(*creds, c)
		writeJSON(w, 201, toJSON(c))
	case r.Method == http.MethodDelete && m[2] != "":
		// Like ARM: 200 when the credential existed, 204 when it did not.
		name := path[len(path)-len(m[2]):]
		if !authorizeWrite(w, r, s, identityID, "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete") {
			return true
		}
		for i := range *creds {
			if (*creds)[i].Name == name {
				*creds = append((*creds)[:i], (*creds)[i+1:]...)
				w.WriteHeader(http.StatusOK)
				return true
			}
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		return false
	}
	return true
}

func assignmentJSON(a Assignment) any {
	return map[string]any{"id": a.Scope + "/providers/Microsoft.Authorization/roleAssignments/" + a.Name, "name": a.Name,
		"type":       "Microsoft.Authorization/roleAssignments",
		"properties": map[string]any{"scope": a.Scope, "roleDefinitionId": a.RoleID, "principalId": a.PrincipalID, "principalType": "ServicePrincipal"}}
}

// encloses reports whether an assignment at outer applies at inner (ARM IDs are case-insensitive).
func encloses(outer, inner string) bool {
	o, i := strings.ToLower(strings.TrimRight(outer, "/")), strings.ToLower(strings.TrimRight(inner, "/"))
	return i == o || strings.HasPrefix(i, o+"/")
}

// blobEndpoint is the account's primary blob endpoint. Clients that reach ARM under its public name
// (the velero double's transport keeps the Host header management.azure.com) get the public
// endpoint https://<account>.blob.core.windows.net/, which that transport maps to the blob front;
// clients on the loopback URL (the plugin with --cloud-config) get the front's loopback URL.
func (a *ARM) blobEndpoint(r *http.Request, acc Account, path string) string {
	if publicHost(r.Host) && acc.BlobEndpoint != "" {
		suffix := a.StorageSuffix
		if suffix == "" {
			suffix = "core.windows.net"
		}
		return "https://" + path[strings.LastIndex(path, "/")+1:] + ".blob." + suffix + "/"
	}
	return acc.BlobEndpoint
}
