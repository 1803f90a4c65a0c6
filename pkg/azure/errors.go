package azure

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// PermissionError is an ARM 403: the caller lacks an action on a scope.
type PermissionError struct {
	Operation string
	Action    string
	Scope     string
	Code      string
	Err       error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("Azure refused to %s (403 %s): you need %s on %s (or an enclosing scope); ask an Owner or User Access Administrator for a role that grants it, or use --azure-credential with an identity that has it",
		e.Operation, e.Code, e.Action, e.Scope)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// NotFoundError is an ARM 404, or a lookup that matched nothing.
type NotFoundError struct {
	What string
	Code string
	Err  error
}

func (e *NotFoundError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s not found (404 %s): check the IDs, --subscription and --cloud", e.What, e.Code)
	}
	return e.What + " not found"
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// ARM's AuthorizationFailed message names the exact action and scope that were refused.
var authzFailed = regexp.MustCompile(`perform action '([^']+)' over scope '([^']+)'`)

// explain turns SDK response errors into errors that say what to do. The original stays wrapped.
func explain(err error, operation, action, scope string) error {
	if err == nil {
		return nil
	}
	var respErr *azcore.ResponseError
	if !errors.As(err, &respErr) {
		return fmt.Errorf("%s: %w", operation, err)
	}
	switch respErr.StatusCode {
	case http.StatusForbidden:
		pe := &PermissionError{Operation: operation, Action: action, Scope: scope, Code: respErr.ErrorCode, Err: err}
		if m := authzFailed.FindStringSubmatch(respErr.Error()); m != nil {
			pe.Action, pe.Scope = m[1], m[2]
		}
		return pe
	case http.StatusNotFound:
		return &NotFoundError{What: scope, Code: respErr.ErrorCode, Err: err}
	case http.StatusUnauthorized:
		return fmt.Errorf("%s: Azure rejected the credential (401 %s); sign in again (az login) or check --azure-credential and --cloud: %w", operation, respErr.ErrorCode, err)
	case http.StatusTooManyRequests:
		return fmt.Errorf("%s: Azure is throttling requests (429) and retries ran out; wait a minute and rerun: %w", operation, err)
	}
	if respErr.StatusCode >= 500 {
		return fmt.Errorf("%s: Azure answered %d %s after retries; this is on Azure's side, rerun later: %w", operation, respErr.StatusCode, respErr.ErrorCode, err)
	}
	return fmt.Errorf("%s: %w", operation, err)
}
