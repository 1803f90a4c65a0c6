package azurelab

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

var (
	rePermissions = regexp.MustCompile(`(?i)^(.*)/providers/microsoft\.authorization/permissions$`)
	reProvider    = regexp.MustCompile(`(?i)^/subscriptions/([^/]+)/providers/([^/]+)$`)
)

// callerPermissions is what Microsoft.Authorization/permissions answers: one entry per role the
// principal holds at scope or an enclosing scope, with the role's actions and notActions.
func callerPermissions(s *State, principal, scope string) []map[string]any {
	out := []map[string]any{}
	for _, a := range s.Assignments {
		if !strings.EqualFold(a.PrincipalID, principal) || !encloses(a.Scope, scope) {
			continue
		}
		rd, ok := s.Roles[strings.ToLower(a.RoleID[strings.LastIndex(a.RoleID, "/")+1:])]
		if !ok {
			continue
		}
		out = append(out, map[string]any{"actions": nonNil(rd.Actions), "notActions": nonNil(rd.NotActions), "dataActions": nonNil(rd.DataActions), "notDataActions": []string{}})
	}
	return out
}

// allowed applies ARM's rule: some role's actions match and that same role's notActions do not.
func allowed(s *State, principal, scope, action string) bool {
	for _, p := range callerPermissions(s, principal, scope) {
		if matchesAny(p["actions"].([]string), action) && !matchesAny(p["notActions"].([]string), action) {
			return true
		}
	}
	return false
}

func matchesAny(patterns []string, action string) bool {
	for _, p := range patterns {
		expr := "(?i)^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, ".*") + "$"
		if ok, _ := regexp.MatchString(expr, action); ok {
			return true
		}
	}
	return false
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// authorizeWrite answers 403 AuthorizationFailed, as ARM does, unless the caller may perform action
// at scope; it records the write when allowed.
func authorizeWrite(w http.ResponseWriter, r *http.Request, s *State, scope, action string) bool {
	caller, _ := tokenClaims(r)["oid"].(string)
	if !allowed(s, caller, scope, action) {
		armError(w, http.StatusForbidden, "AuthorizationFailed", fmt.Sprintf("The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
			caller, caller, action, scope))
		return false
	}
	s.Writes = append(s.Writes, r.Method+" "+r.URL.Path)
	return true
}

// routeAuthorization serves GET <scope>/providers/Microsoft.Authorization/permissions for the caller
// and GET /subscriptions/<sub>/providers/<namespace>.
func routeAuthorization(w http.ResponseWriter, r *http.Request, s *State, path string) bool {
	if r.Method != http.MethodGet {
		return false
	}
	if m := rePermissions.FindStringSubmatch(path); m != nil {
		caller, _ := tokenClaims(r)["oid"].(string)
		writeJSON(w, 200, map[string]any{"value": callerPermissions(s, caller, m[1])})
		return true
	}
	if m := reProvider.FindStringSubmatch(path); m != nil && strings.EqualFold(m[1], Subscription) {
		state, ok := s.Providers[strings.ToLower(m[2])]
		if !ok {
			state = "Registered"
		}
		writeJSON(w, 200, map[string]any{"id": path, "namespace": m[2], "registrationState": state, "resourceTypes": []any{}})
		return true
	}
	return false
}
