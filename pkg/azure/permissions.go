package azure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armresources"
)

// Permission is one entry of Microsoft.Authorization/permissions: what one of the caller's roles
// allows at a scope. NotActions subtract from that same entry's Actions only; they deny nothing that
// another entry allows.
type Permission struct {
	Actions        []string `json:"actions,omitempty"`
	NotActions     []string `json:"notActions,omitempty"`
	DataActions    []string `json:"dataActions,omitempty"`
	NotDataActions []string `json:"notDataActions,omitempty"`
}

// Allows reports whether the permissions grant an action: some entry's actions match it and the
// same entry's notActions do not. Matching is case-insensitive and `*` matches any run of characters.
func Allows(perms []Permission, action string) bool {
	for _, p := range perms {
		if MatchesAny(p.Actions, action) && !MatchesAny(p.NotActions, action) {
			return true
		}
	}
	return false
}

// MatchesAny reports whether an action matches one of the patterns ("*", "Microsoft.Storage/*",
// "Microsoft.Authorization/*/Write").
func MatchesAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if matchAction(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

func matchAction(pattern, action string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == action
	}
	if !strings.HasPrefix(action, parts[0]) {
		return false
	}
	rest := action[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, mid)
		if i < 0 {
			return false
		}
		rest = rest[i+len(mid):]
	}
	return strings.HasSuffix(rest, parts[len(parts)-1])
}

// ListPermissions asks ARM what the caller may do at scope (a resource group or a resource in one).
func (c *armClient) ListPermissions(ctx context.Context, scope string) ([]Permission, error) {
	sub := subscriptionOf(scope)
	opts := *c.opts
	// The SDK's URL template leaves an empty parent segment ("Microsoft.Storage//storageAccounts") for a
	// top-level resource; send the resource's canonical path instead.
	opts.PerCallPolicies = append(append([]policy.Policy{}, opts.PerCallPolicies...), collapseEmptySegments{})
	client, err := armauthorization.NewPermissionsClient(sub, c.cred, &opts)
	if err != nil {
		return nil, err
	}
	var out []Permission
	add := func(values []*armauthorization.Permission) {
		for _, p := range values {
			if p != nil {
				out = append(out, Permission{Actions: derefAll(p.Actions), NotActions: derefAll(p.NotActions),
					DataActions: derefAll(p.DataActions), NotDataActions: derefAll(p.NotDataActions)})
			}
		}
	}
	explainErr := func(err error) error {
		return explain(err, "read your permissions", "Microsoft.Authorization/permissions/read", scope)
	}
	id, err := arm.ParseResourceID(scope)
	switch {
	case err == nil && id.ResourceType.String() != arm.ResourceGroupResourceType.String() && id.ResourceGroupName != "" && len(id.ResourceType.Types) > 0:
		parent := parentPath(id)
		pager := client.NewListForResourcePager(id.ResourceGroupName, id.ResourceType.Namespace, parent, id.ResourceType.Types[len(id.ResourceType.Types)-1], id.Name, nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return nil, explainErr(err)
			}
			add(page.Value)
		}
	case err == nil && id.ResourceGroupName != "":
		pager := client.NewListForResourceGroupPager(id.ResourceGroupName, nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return nil, explainErr(err)
			}
			add(page.Value)
		}
	default:
		return nil, fmt.Errorf("cannot ask for permissions at %q: expected a resource group or a resource in one", scope)
	}
	return out, nil
}

// parentPath is the path between the provider namespace and the resource's own type, e.g.
// "storageAccounts/acct/blobServices/default" for a blob container; "" for a top-level resource.
func parentPath(id *arm.ResourceID) string {
	var segs []string
	for p := id.Parent; p != nil && p.ResourceType.Namespace != "" && len(p.ResourceType.Types) > 0 &&
		strings.EqualFold(p.ResourceType.Namespace, id.ResourceType.Namespace); p = p.Parent {
		segs = append([]string{p.ResourceType.Types[len(p.ResourceType.Types)-1], p.Name}, segs...)
	}
	return strings.Join(segs, "/")
}

var emptySegments = regexp.MustCompile(`/{2,}`)

type collapseEmptySegments struct{}

func (collapseEmptySegments) Do(req *policy.Request) (*http.Response, error) {
	u := req.Raw().URL
	u.Path = emptySegments.ReplaceAllString(u.Path, "/")
	if u.RawPath != "" {
		u.RawPath = emptySegments.ReplaceAllString(u.RawPath, "/")
	}
	return req.Next()
}

// ProviderState returns a resource provider's registration state in a subscription ("Registered",
// "NotRegistered", "Registering", ...).
func (c *armClient) ProviderState(ctx context.Context, subscriptionID, namespace string) (string, error) {
	client, err := armresources.NewProvidersClient(subscriptionID, c.cred, c.opts)
	if err != nil {
		return "", err
	}
	resp, err := client.Get(ctx, namespace, nil)
	if err != nil {
		return "", explain(err, "read resource provider "+namespace, "Microsoft.Resources/subscriptions/providers/read", "/subscriptions/"+subscriptionID)
	}
	return str(resp.RegistrationState), nil
}

var objectIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// CallerObjectID returns the object ID the client signs in as: the oid claim of its ARM token. The
// token is only decoded here, never kept or shown.
func (c *armClient) CallerObjectID(ctx context.Context) (string, error) {
	audience := strings.TrimRight(c.opts.Cloud.Services[cloud.ResourceManager].Audience, "/")
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{audience + "/.default"}})
	if err != nil {
		return "", err
	}
	parts := strings.Split(tok.Token, ".")
	if len(parts) != 3 {
		return "", errors.New("the ARM token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("decoding the ARM token's claims: %w", err)
	}
	var claims struct {
		OID string `json:"oid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", fmt.Errorf("decoding the ARM token's claims: %w", err)
	}
	if !objectIDPattern.MatchString(claims.OID) {
		return "", errors.New("the ARM token has no object ID (oid)")
	}
	return claims.OID, nil
}
