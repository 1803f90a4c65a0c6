// Package probetest is an Entra token endpoint and a Blob service in one TLS server, for tests of
// the probe and the commands that run it.
package probetest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Azure is an Entra token endpoint and a Blob service in one TLS server, with the real wire
// formats the SDKs parse, and switches to fail each operation as Azure does.
type Azure struct {
	Srv *httptest.Server

	Mu    sync.Mutex
	Blobs map[string][]byte // container/name -> data
	// entraError, when set, is the AADSTS code the token endpoint answers with.
	EntraError int
	// FailOp maps an operation (list, put, get, delete, head) to a storage error code, sent with
	// the status Azure sends it with (403 unless failStatus says otherwise).
	FailOp map[string]string
	// keepOnDelete leaves blobs in place (a delete that does nothing).
	KeepOnDelete bool
	// corrupt changes the bytes served by get.
	Corrupt      bool
	Assertions   []string
	Containers   map[string]bool
	RequestsSeen []string
}

// New starts the server; t.Cleanup stops it.
func New(t testing.TB) *Azure {
	f := &Azure{Blobs: map[string][]byte{}, FailOp: map[string]string{}, Containers: map[string]bool{"velero": true}}
	f.Srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Srv.Close)
	return f
}

// Tenant is the tenant the fake serves.
const Tenant = "11111111-2222-3333-4444-555555555555"

func (f *Azure) serve(w http.ResponseWriter, r *http.Request) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.RequestsSeen = append(f.RequestsSeen, r.Method+" "+r.URL.Path)
	switch {
	case strings.HasSuffix(r.URL.Path, "/v2.0/.well-known/openid-configuration"):
		base := f.Srv.URL + "/" + Tenant
		writeJSON(w, 200, map[string]any{"issuer": base + "/v2.0", "token_endpoint": base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize", "jwks_uri": base + "/discovery/v2.0/keys",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"pairwise"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
	case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
		_ = r.ParseForm()
		f.Assertions = append(f.Assertions, r.PostForm.Get("client_assertion"))
		if f.EntraError != 0 {
			writeJSON(w, 400, map[string]any{"error": "invalid_client", "error_codes": []int{f.EntraError},
				"error_description": fmt.Sprintf("AADSTS%d: No matching federated identity record found for presented assertion subject 'system:serviceaccount:x:y'.", f.EntraError)})
			return
		}
		writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": 3599, "access_token": "fake-access-token"})
	default:
		f.serveBlob(w, r)
	}
}

func (f *Azure) serveBlob(w http.ResponseWriter, r *http.Request) {
	// Path-style: /<account>/<container>[/<blob>].
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) < 2 {
		storageErr(w, 400, "InvalidUri")
		return
	}
	containerName, blob := parts[1], ""
	if len(parts) == 3 {
		blob = parts[2]
	}
	op := map[string]string{http.MethodGet: "get", http.MethodPut: "put", http.MethodDelete: "delete", http.MethodHead: "head"}[r.Method]
	if r.URL.Query().Get("comp") == "list" {
		op = "list"
	}
	if code, ok := f.FailOp[op]; ok {
		status, known := failStatus[code]
		if !known {
			status = 403
		}
		storageErr(w, status, code)
		return
	}
	if !f.Containers[containerName] {
		storageErr(w, 404, "ContainerNotFound")
		return
	}
	key := containerName + "/" + blob
	switch op {
	case "list":
		f.list(w, containerName, r.URL.Query().Get("prefix"), r.URL.Query().Get("delimiter"))
	case "put":
		data, _ := io.ReadAll(r.Body)
		f.Blobs[key] = data
		w.Header().Set("ETag", `"0x1"`)
		w.WriteHeader(201)
	case "get", "head":
		data, ok := f.Blobs[key]
		if !ok {
			if op == "head" {
				w.Header().Set("x-ms-error-code", "BlobNotFound")
				w.WriteHeader(404)
				return
			}
			storageErr(w, 404, "BlobNotFound")
			return
		}
		if f.Corrupt {
			data = append([]byte("x"), data...)
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Header().Set("x-ms-blob-type", "BlockBlob")
		w.WriteHeader(200)
		if op == "get" {
			_, _ = w.Write(data)
		}
	case "delete":
		if _, ok := f.Blobs[key]; !ok {
			storageErr(w, 404, "BlobNotFound")
			return
		}
		if !f.KeepOnDelete {
			delete(f.Blobs, key)
		}
		w.WriteHeader(202)
	}
}

// failStatus is the HTTP status Blob Storage sends with an error code, where it is not 403.
var failStatus = map[string]int{
	"ContainerNotFound": 404,
	// Immutability (a time-based retention or legal hold) refuses a delete with 409.
	"BlobImmutableDueToPolicy": 409,
}

type xmlBlob struct {
	Name string `xml:"Name"`
}

func (f *Azure) list(w http.ResponseWriter, containerName, prefix, delimiter string) {
	type result struct {
		XMLName  xml.Name  `xml:"EnumerationResults"`
		Prefix   string    `xml:"Prefix"`
		Blobs    []xmlBlob `xml:"Blobs>Blob"`
		Prefixes []xmlBlob `xml:"Blobs>BlobPrefix"`
		Next     string    `xml:"NextMarker"`
	}
	res := result{Prefix: prefix}
	seen := map[string]bool{}
	var names []string
	for k := range f.Blobs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c, name, _ := strings.Cut(k, "/")
		if c != containerName || !strings.HasPrefix(name, prefix) {
			continue
		}
		rest := strings.TrimPrefix(name, prefix)
		if i := strings.Index(rest, delimiter); delimiter != "" && i >= 0 {
			p := prefix + rest[:i+1]
			if !seen[p] {
				seen[p] = true
				res.Prefixes = append(res.Prefixes, xmlBlob{Name: p})
			}
			continue
		}
		res.Blobs = append(res.Blobs, xmlBlob{Name: name})
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(200)
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(res)
}

func storageErr(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>fake %s</Message></Error>`, code, code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
