package azurelab

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Entra answers client-credentials token requests like Microsoft Entra ID: with a client secret (the
// lab admin), or with a client assertion that is a Kubernetes service-account token, verified against
// the lab API server's JWKS and matched against the federated credentials of the identity.
type Entra struct {
	Store *Store
	// BaseURL is this server's own URL, for the discovery document. A request that arrives with a
	// public host name (the velero double's transport maps login.microsoftonline.com here and keeps
	// the Host header) is answered with that host instead, so MSAL's issuer check and the token
	// endpoint it posts to carry the real Entra host, as in production.
	BaseURL string
	// FetchJWKS returns the API server's JSON Web Key Set.
	FetchJWKS func(ctx context.Context) ([]byte, error)
	// ARMAudience is a custom cloud's ARM audience, issued for its /.default scope ("" = none).
	ARMAudience string

	once    sync.Once
	signKey *rsa.PrivateKey
	keyErr  error
}

var reToken = regexp.MustCompile(`^/([^/]+)/oauth2/v2\.0/token$`)
var reDiscovery = regexp.MustCompile(`^/([^/]+)/v2\.0/\.well-known/openid-configuration$`)

func (e *Entra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var tenant string
	e.Store.With(func(s *State) { tenant = s.TenantID })
	if m := reDiscovery.FindStringSubmatch(r.URL.Path); m != nil {
		if !strings.EqualFold(m[1], tenant) && m[1] != "organizations" && m[1] != "common" {
			entraError(w, 400, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", m[1]))
			return
		}
		base := strings.TrimRight(e.BaseURL, "/")
		if publicHost(r.Host) {
			base = "https://" + r.Host
		}
		writeJSON(w, 200, map[string]any{
			"token_endpoint":                        base + "/" + m[1] + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/" + m[1] + "/oauth2/v2.0/authorize",
			"device_authorization_endpoint":         base + "/" + m[1] + "/oauth2/v2.0/devicecode",
			"issuer":                                base + "/" + m[1] + "/v2.0",
			"jwks_uri":                              base + "/" + m[1] + "/discovery/v2.0/keys",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
			"tenant_region_scope":                   "NA",
		})
		return
	}
	m := reToken.FindStringSubmatch(r.URL.Path)
	if m == nil || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		entraError(w, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if !strings.EqualFold(m[1], tenant) {
		entraError(w, 400, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", m[1]))
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		entraError(w, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	}
	clientID, scope := r.PostForm.Get("client_id"), r.PostForm.Get("scope")
	resource := resourceOf(scope)
	if aud := strings.TrimRight(e.ARMAudience, "/"); aud != "" && strings.HasPrefix(scope, aud+"/") {
		resource = e.ARMAudience
	}
	if resource == "" {
		entraError(w, 400, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		return
	}
	var oid string
	switch {
	case r.PostForm.Get("client_secret") != "":
		var secret string
		e.Store.With(func(s *State) { secret = s.AdminSecret })
		if clientID != AdminClientID {
			entraError(w, 400, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, tenant))
			return
		}
		if r.PostForm.Get("client_secret") != secret {
			entraError(w, 401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+clientID+"'.")
			return
		}
		oid = AdminObjectID
	case r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		var ident *labIdentity
		var creds []Credential
		e.Store.With(func(s *State) {
			if ident = s.identityByClientID(clientID); ident != nil {
				creds = append(creds, *ident.credentials...)
			}
		})
		if ident == nil {
			entraError(w, 400, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, tenant))
			return
		}
		status, kind, code, msg := e.checkAssertion(r.Context(), r.PostForm.Get("client_assertion"), creds)
		if code != 0 {
			entraError(w, status, kind, code, msg)
			return
		}
		oid = ident.PrincipalID
	default:
		entraError(w, 400, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	token, err := e.issue(tenant, resource, clientID, oid)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})
}

// resourceOf maps a /.default scope to the token audience Azure uses for it.
func resourceOf(scope string) string {
	for _, s := range strings.Fields(scope) {
		switch {
		case strings.HasPrefix(s, "https://storage.azure.com"):
			return "https://storage.azure.com"
		case strings.HasPrefix(s, "https://management.azure.com"), strings.HasPrefix(s, "https://management.core.windows.net"):
			return "https://management.azure.com/"
		}
	}
	return ""
}

func (e *Entra) checkAssertion(ctx context.Context, assertion string, creds []Credential) (int, string, int, string) {
	header, claims, signed, sig, err := splitJWT(assertion)
	if err != nil {
		return 400, "invalid_client", 50027, "JWT token is invalid or malformed."
	}
	jwks, err := e.FetchJWKS(ctx)
	if err != nil {
		return 500, "server_error", 50000, "Could not fetch the issuer's keys: " + err.Error()
	}
	pub, err := keyFor(jwks, header.Kid)
	if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, sha(signed), sig) != nil {
		return 401, "invalid_client", 700027, "Client assertion failed signature validation."
	}
	if time.Unix(int64(claims.Exp), 0).Before(time.Now()) {
		return 400, "invalid_client", 700024, "Client assertion is not within its valid time range. Current time: " + time.Now().UTC().Format(time.RFC3339) + ", assertion valid from " + time.Unix(int64(claims.Iat), 0).UTC().Format(time.RFC3339) + ", expiry time of assertion " + time.Unix(int64(claims.Exp), 0).UTC().Format(time.RFC3339) + "."
	}
	aud := claims.audiences()
	if len(creds) == 0 {
		return 400, "invalid_client", 70021, fmt.Sprintf("No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.", claims.Iss, claims.Sub, strings.Join(aud, ","))
	}
	var issuerOK, subjectOK bool
	for _, c := range creds {
		if c.Issuer != claims.Iss {
			continue
		}
		issuerOK = true
		if c.Subject != claims.Sub {
			continue
		}
		subjectOK = true
		for _, a := range c.Audiences {
			for _, have := range aud {
				if a == have {
					return 0, "", 0, ""
				}
			}
		}
	}
	switch {
	case !issuerOK:
		return 400, "invalid_client", 700211, fmt.Sprintf("No matching federated identity record found for presented assertion issuer '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.", claims.Iss)
	case !subjectOK:
		return 400, "invalid_client", 700213, fmt.Sprintf("No matching federated identity record found for presented assertion subject '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.", claims.Sub)
	}
	return 400, "invalid_client", 700212, fmt.Sprintf("No matching federated identity record found for presented assertion audience '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.", strings.Join(aud, ","))
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

type jwtClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp float64         `json:"exp"`
	Iat float64         `json:"iat"`
}

func (c jwtClaims) audiences() []string {
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Aud, &many)
	return many
}

func splitJWT(token string) (jwtHeader, jwtClaims, []byte, []byte, error) {
	var h jwtHeader
	var c jwtClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return h, c, nil, nil, errors.New("not a JWT")
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return h, c, nil, nil, err
	}
	if err := errors.Join(json.Unmarshal(hb, &h), json.Unmarshal(cb, &c)); err != nil {
		return h, c, nil, nil, err
	}
	if h.Alg != "RS256" {
		return h, c, nil, nil, fmt.Errorf("unsupported alg %q", h.Alg)
	}
	return h, c, []byte(parts[0] + "." + parts[1]), sig, nil
}

func keyFor(jwks []byte, kid string) (*rsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Kty string `json:"kty"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, err
	}
	for _, k := range set.Keys {
		if k.Kid != kid || k.Kty != "RSA" {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	}
	return nil, fmt.Errorf("no key %q", kid)
}

func sha(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

// issue mints an access token shaped like Entra's v1 tokens, which Azurite and the ARM double accept.
func (e *Entra) issue(tenant, resource, clientID, oid string) (string, error) {
	e.once.Do(func() { e.signKey, e.keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	if e.keyErr != nil {
		return "", e.keyErr
	}
	now := time.Now()
	header := base64.RawURLEncoding.EncodeToString(mustJSON(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "lab"}))
	claims := base64.RawURLEncoding.EncodeToString(mustJSON(map[string]any{
		"aud": resource, "iss": "https://sts.windows.net/" + tenant + "/", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"oid": oid, "sub": oid, "tid": tenant, "appid": clientID, "azp": clientID, "idtyp": "app", "ver": "1.0",
	}))
	sig, err := rsa.SignPKCS1v15(rand.Reader, e.signKey, crypto.SHA256, sha([]byte(header+"."+claims)))
	if err != nil {
		return "", err
	}
	return header + "." + claims + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func entraError(w http.ResponseWriter, status int, kind string, code int, description string) {
	trace, correlation := newGUID(), newGUID()
	now := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	// A struct keeps Entra's member order, which SDK error texts show verbatim.
	writeJSON(w, status, struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		Timestamp     string `json:"timestamp"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
		URI           string `json:"error_uri"`
	}{kind, fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", code, description, trace, correlation, now),
		[]int{code}, now, trace, correlation, fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", code)})
}

// newGUID is a random GUID, as Azure's trace, correlation and request IDs are.
func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// publicHost reports whether a request's Host header names a public Azure host rather than the
// loopback address the double listens on.
func publicHost(host string) bool {
	if host == "" {
		return false
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
