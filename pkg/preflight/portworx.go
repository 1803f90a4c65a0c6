package preflight

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/azure"
)

//go:embed portworx-actions.yaml
var portworxActionsYAML []byte

// PortworxRequirements is the data file portworx-actions.yaml.
type PortworxRequirements struct {
	Source  string   `json:"source"`
	Scope   string   `json:"scope"`
	Actions []string `json:"actions"`
}

// PortworxActions parses the embedded action list.
func PortworxActions() (PortworxRequirements, error) {
	var req PortworxRequirements
	if err := yaml.UnmarshalStrict(portworxActionsYAML, &req); err != nil {
		return req, fmt.Errorf("portworx-actions.yaml: %w", err)
	}
	if req.Source == "" || len(req.Actions) == 0 {
		return req, fmt.Errorf("portworx-actions.yaml: needs a source and actions")
	}
	return req, nil
}

// PermissionLister reads the caller's effective permissions at a scope
// (Microsoft.Authorization/permissions); azure.Client implements it.
type PermissionLister interface {
	ListPermissions(ctx context.Context, scope string) ([]azure.Permission, error)
}

// PortworxInput asks for the Portworx permission comparison.
type PortworxInput struct {
	Permissions PermissionLister
	// Scope is where the actions must be allowed: the node resource group's ID.
	Scope string
	// Identity names whose permissions these are, for the message ("the caller").
	Identity string
}

// MissingActions returns the required actions the permissions do not allow, in order.
func MissingActions(perms []azure.Permission, required []string) []string {
	var missing []string
	for _, a := range required {
		if !azure.Allows(perms, a) {
			missing = append(missing, a)
		}
	}
	return missing
}

func (r *runner) checkPortworx(ctx context.Context) error {
	const name = "portworx-permissions"
	px := r.in.Portworx
	if px == nil {
		return nil
	}
	req, err := PortworxActions()
	if err != nil {
		return err
	}
	perms, err := px.Permissions.ListPermissions(ctx, px.Scope)
	if err != nil {
		r.add(Check{Name: name, Status: StatusSkipped, Detail: "could not read the permissions"},
			catalog.AzureReadFailed.New(px.Scope, "reading Microsoft.Authorization/permissions: "+err.Error()))
		return nil
	}
	missing := MissingActions(perms, req.Actions)
	if len(missing) == 0 {
		r.add(Check{Name: name, Status: StatusOK, Detail: fmt.Sprintf("%s may perform all %d actions at %s", px.Identity, len(req.Actions), px.Scope)})
		return nil
	}
	r.add(Check{Name: name, Status: StatusFailed, Detail: fmt.Sprintf("%d of %d actions missing", len(missing), len(req.Actions))},
		catalog.PortworxPermissionMissing.New(px.Scope,
			fmt.Sprintf("%s may not perform %s at this scope (actions from %s)", px.Identity, strings.Join(missing, ", "), req.Source),
			portworxRoleFix(req.Actions, px.Scope)...))
	return nil
}

// portworxRoleFix creates the documented custom role (all its actions, so one role serves) and
// assigns it at the scope.
func portworxRoleFix(actions []string, scope string) []string {
	sub := scope
	if parts := strings.SplitN(strings.TrimPrefix(scope, "/"), "/", 3); len(parts) >= 2 {
		sub = "/" + parts[0] + "/" + parts[1]
	}
	role, _ := json.Marshal(map[string]any{"Name": "portworx-cloud-drive", "IsCustom": true, "Actions": actions, "AssignableScopes": []string{sub}})
	return []string{
		"az role definition create --role-definition " + quote(string(role)),
		"az role assignment create --assignee <the Portworx identity's client ID> --role portworx-cloud-drive --scope " + quote(scope),
	}
}
