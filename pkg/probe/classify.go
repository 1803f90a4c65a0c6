package probe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

// Failure is what went wrong in one step, in the terms of the shared catalog.
type Failure struct {
	FindingID  string
	HTTPStatus int
	// Code is the AADSTS code ("AADSTS700213") or the storage error code ("ContainerNotFound").
	Code string
	// Detail is the error text, redacted and cut to one line.
	Detail string
}

// step is the failed step this failure makes; Finalize turns it into the catalog's finding.
func (f Failure) step(name, endpoint string) Step {
	return Step{Name: name, Endpoint: endpoint, Status: StatusFailed, HTTPStatus: f.HTTPStatus, Code: f.Code, FindingID: f.FindingID, Detail: f.Detail}
}

var aadstsCode = regexp.MustCompile(`AADSTS(\d+)`)

// aadstsFindings maps Entra's error codes to catalog IDs (see the triage catalog for the texts).
var aadstsFindings = map[string]string{
	"70021": catalog.FederatedCredentialMismatch.ID, "700211": catalog.FederatedCredentialMismatch.ID, "700212": catalog.FederatedCredentialMismatch.ID,
	"700213": catalog.FederatedCredentialMismatch.ID, "700016": catalog.ApplicationNotFound.ID, "90002": catalog.TenantNotFound.ID, "900023": catalog.TenantNotFound.ID,
	"50166": catalog.OIDCIssuerUnreachable.ID, "90061": catalog.OIDCIssuerUnreachable.ID, "700024": catalog.ClientAssertionExpired.ID,
	"7000215": catalog.ClientSecretInvalid.ID, "7000222": catalog.ClientSecretInvalid.ID,
}

// storageFindings maps Blob Storage's x-ms-error-code values to catalog IDs.
var storageFindings = map[string]string{
	"AuthorizationPermissionMismatch":    catalog.BlobDataRoleMissing.ID,
	"AuthorizationFailure":               catalog.StorageNetworkBlocked.ID,
	"ContainerNotFound":                  catalog.ContainerNotFound.ID,
	"KeyBasedAuthenticationNotPermitted": catalog.SharedKeyDisabled.ID,
	"InvalidAuthenticationInfo":          catalog.StorageTokenRejected.ID,
	"AccountIsDisabled":                  catalog.StorageAccountDisabled.ID,
}

// Classify names the catalog entry for an error from Entra, Blob Storage, ARM or the network.
// blobHost is the storage endpoint's host: a name that does not resolve there is a wrong account or
// URI (storage-uri-invalid); elsewhere it is a DNS problem.
func Classify(err error, blobHost string, sharedKey bool) Failure {
	f := Failure{Detail: oneLine(err)}
	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) {
		if authErr.RawResponse != nil {
			f.HTTPStatus = authErr.RawResponse.StatusCode
		}
		if m := aadstsCode.FindStringSubmatch(err.Error()); m != nil {
			f.Code = "AADSTS" + m[1]
			if id, ok := aadstsFindings[m[1]]; ok {
				f.FindingID = id
				return f
			}
		}
		f.FindingID = catalog.TokenExchangeFailed.ID
		return f
	}
	var respErr *azcore.ResponseError
	if errors.As(err, &respErr) {
		f.HTTPStatus, f.Code = respErr.StatusCode, respErr.ErrorCode
		if id, ok := storageFindings[respErr.ErrorCode]; ok {
			f.FindingID = id
			return f
		}
		switch {
		case respErr.ErrorCode == "AuthenticationFailed" && sharedKey:
			f.FindingID = catalog.StorageKeyMisconfigured.ID
		case respErr.StatusCode == http.StatusUnauthorized || respErr.ErrorCode == "AuthenticationFailed":
			f.FindingID = catalog.StorageTokenRejected.ID
		case respErr.StatusCode == http.StatusProxyAuthRequired:
			f.FindingID = catalog.ProxyFailed.ID
		default:
			f.FindingID = catalog.StorageRequestFailed.ID
		}
		return f
	}
	f.FindingID = classifyNetwork(err, blobHost)
	return f
}

// classifyNetwork names a transport error: DNS, proxy, TLS or TCP.
func classifyNetwork(err error, blobHost string) string {
	text := err.Error()
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if blobHost != "" && strings.EqualFold(strings.TrimSuffix(dnsErr.Name, "."), hostOnly(blobHost)) {
			return catalog.StorageURIInvalid.ID
		}
		return catalog.DNSFailed.ID
	}
	if strings.Contains(text, "proxyconnect") || strings.Contains(text, "Proxy Authentication Required") {
		return catalog.ProxyFailed.ID
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) || errors.As(err, &verifyErr) || errors.As(err, &recordErr) ||
		strings.Contains(text, "tls: ") || strings.Contains(text, "x509: ") {
		return catalog.TLSFailed.ID
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) {
		return catalog.ExtensionEgressBlocked.ID
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return catalog.ExtensionEgressBlocked.ID
	}
	return catalog.StorageRequestFailed.ID
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// oneLine keeps the first meaningful lines of an SDK error (they carry the request, the status and
// the service's message) redacted and on one line, short enough for a termination message.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Trim(line, "-") == "" || strings.HasPrefix(line, "ERROR CODE") && len(parts) > 0 {
			continue
		}
		parts = append(parts, line)
	}
	s := redact.String(strings.Join(parts, " "))
	const max = 400
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// OneLine is the redacted one-line form of an error that steps and results carry.
func OneLine(err error) string { return oneLine(err) }
