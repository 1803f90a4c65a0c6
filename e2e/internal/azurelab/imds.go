package azurelab

import (
	"net/http"
)

// IMDSTokenPath is the managed-identity token endpoint of the Azure Instance Metadata Service.
const IMDSTokenPath = "/metadata/identity/oauth2/token"

// IMDS is the node's Instance Metadata Service as an AKS node answers it for a pod that asks for a
// managed identity: the lab's node pool has no identity assigned, so every well-formed token
// request is refused with IMDS's "Identity not found". It serves plain HTTP, as IMDS does.
type IMDS struct{}

func (IMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != IMDSTokenPath {
		imdsError(w, http.StatusNotFound, "not_found", "The requested resource was not found")
		return
	}
	if r.Method != http.MethodGet {
		imdsError(w, http.StatusMethodNotAllowed, "invalid_request", "The requested HTTP method is not allowed")
		return
	}
	if r.Header.Get("Metadata") != "true" {
		imdsError(w, http.StatusBadRequest, "invalid_request", "Required metadata header not specified")
		return
	}
	q := r.URL.Query()
	if q.Get("api-version") == "" {
		imdsError(w, http.StatusBadRequest, "invalid_request", "Required query variable 'api-version' is missing")
		return
	}
	if q.Get("resource") == "" {
		imdsError(w, http.StatusBadRequest, "invalid_request", "Required query variable 'resource' is missing")
		return
	}
	// With or without client_id/object_id/msi_res_id: no identity is assigned to the node pool.
	imdsError(w, http.StatusBadRequest, "invalid_request", "Identity not found")
}

func imdsError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Server", "IMDS/150.870.65.1854")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(map[string]string{"error": code, "error_description": description}))
}
