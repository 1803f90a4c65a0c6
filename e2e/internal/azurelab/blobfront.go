package azurelab

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"
)

// BlobFront sits before Azurite (which checks a bearer token's issuer, audience and expiry, but not
// RBAC or network rules) and enforces the lab account's rules with Azure Storage's real errors.
type BlobFront struct {
	Store *Store
	Proxy *httputil.ReverseProxy
}

// NewBlobFront proxies to Azurite's blob endpoint.
func NewBlobFront(store *Store, azurite *url.URL, transport http.RoundTripper) *BlobFront {
	p := httputil.NewSingleHostReverseProxy(azurite)
	p.Transport = transport
	return &BlobFront{Store: store, Proxy: p}
}

func storageError(w http.ResponseWriter, status int, code, message string) {
	now := time.Now().UTC()
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, "\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code><Message>%s\nRequestId:%s\nTime:%s</Message></Error>",
		code, message, newGUID(), now.Format("2006-01-02T15:04:05.0000000Z"))
}

func (f *BlobFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var acc Account
	var assignments []Assignment
	var roles map[string]RoleDefinition
	f.Store.With(func(s *State) {
		acc = s.accountForHost(r.Host)
		assignments = append(assignments, s.Assignments...)
		roles = s.Roles
	})
	auth := r.Header.Get("Authorization")
	switch {
	case strings.EqualFold(acc.PublicNetworkAccess, "Disabled") || (strings.EqualFold(acc.DefaultAction, "Deny") && !allowsLoopback(acc.IPRules)):
		storageError(w, http.StatusForbidden, "AuthorizationFailure", "This request is not authorized to perform this operation.")
		return
	case strings.HasPrefix(auth, "SharedKey") || r.URL.Query().Get("sig") != "":
		if !acc.AllowSharedKeyAccess {
			storageError(w, http.StatusForbidden, "KeyBasedAuthenticationNotPermitted", "Key based authentication is not permitted on this storage account.")
			return
		}
	case strings.HasPrefix(auth, "Bearer "):
		oid, _ := tokenClaims(r)["oid"].(string)
		action := "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			action = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
		}
		// Roles count at the container, the account or above (a role on another container does not).
		scope := acc.ID
		if c := containerOf(r.URL.Path); c != "" {
			scope += "/blobServices/default/containers/" + c
		}
		if !grantsData(assignments, roles, oid, scope, action) {
			storageError(w, http.StatusForbidden, "AuthorizationPermissionMismatch", "This request is not authorized to perform this operation using this permission.")
			return
		}
	}
	// Azurite keeps the lab's container whatever the scenario says; the container-missing fault
	// removes it from the account, so answer for it as Azure does once it is deleted.
	if c := containerOf(r.URL.Path); strings.EqualFold(c, Container) && !hasContainer(acc, c) && !isContainerCreate(r) {
		storageError(w, http.StatusNotFound, "ContainerNotFound", "The specified container does not exist.")
		return
	}
	f.Proxy.ServeHTTP(w, r)
}

// containerOf is the container of a path-style blob URL path: /<account>/<container>[/<blob>].
func containerOf(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

func hasContainer(acc Account, name string) bool {
	for _, c := range acc.Containers {
		if strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

func isContainerCreate(r *http.Request) bool {
	return r.Method == http.MethodPut && r.URL.Query().Get("restype") == "container" && r.URL.Query().Get("comp") == ""
}

func allowsLoopback(rules []string) bool {
	for _, r := range rules {
		if r == "127.0.0.1" || strings.HasPrefix(r, "127.") {
			return true
		}
	}
	return false
}

// grantsData reports whether a principal holds a data action on the account through any assignment
// at the account or an enclosing scope.
func grantsData(assignments []Assignment, roles map[string]RoleDefinition, principal, accountID, action string) bool {
	return grants(assignments, roles, principal, accountID, action, func(rd RoleDefinition) []string { return rd.DataActions })
}

// grantsAction is grantsData for a management (ARM) action.
func grantsAction(assignments []Assignment, roles map[string]RoleDefinition, principal, scope, action string) bool {
	return grants(assignments, roles, principal, scope, action, func(rd RoleDefinition) []string { return rd.Actions })
}

func grants(assignments []Assignment, roles map[string]RoleDefinition, principal, scope, action string, permitted func(RoleDefinition) []string) bool {
	for _, a := range assignments {
		if !strings.EqualFold(a.PrincipalID, principal) || !encloses(a.Scope, scope) {
			continue
		}
		rd, ok := roles[strings.ToLower(a.RoleID[strings.LastIndex(a.RoleID, "/")+1:])]
		if !ok {
			continue
		}
		for _, p := range permitted(rd) {
			if strings.EqualFold(p, action) || (strings.HasSuffix(p, "*") && strings.HasPrefix(strings.ToLower(action), strings.ToLower(strings.TrimSuffix(p, "*")))) {
				return true
			}
		}
	}
	return false
}
