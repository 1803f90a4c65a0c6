package catalog

import "github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"

// Findings that only the blob write probe makes: the network path to Azure, the probe's own steps
// and the verifier pod. Causes other checks also find keep their shared IDs.
var (
	DNSFailed = findings.Define(findings.Definition{ID: "dns-resolution-failed", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "An Azure endpoint's name does not resolve",
		Explanation: "The Entra or ARM host has no DNS answer from where the probe ran: a private DNS zone, a custom DNS server or a firewall swallows it."})
	TLSFailed = findings.Define(findings.Definition{ID: "tls-handshake-failed", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The TLS handshake with an Azure endpoint failed",
		Explanation: "The server's certificate is not trusted or does not name the host: a TLS-inspecting proxy or firewall re-signs traffic with its own CA (mount it with --ca-bundle-configmap), or the endpoint is not the Azure one."})
	ProxyFailed = findings.Define(findings.Definition{ID: "proxy-failed", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The HTTP proxy refused or failed the connection",
		Explanation: "HTTPS_PROXY is set for the component, and the proxy did not open a tunnel to the Azure endpoint: it is unreachable, needs the host allow-listed, or the host belongs in NO_PROXY."})
	EgressDenied = findings.Define(findings.Definition{ID: "egress-denied-by-network-policy", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "A NetworkPolicy denies the component's egress",
		Explanation: "A NetworkPolicy with an Egress rule selects the component's pods and does not admit the Azure endpoints, so connections time out before they leave the node."})
	TokenExchangeFailed = findings.Define(findings.Definition{ID: "token-exchange-failed", Severity: findings.SeverityError, Layer: findings.LayerEntra,
		Title:       "Entra refused the service account token",
		Explanation: "The token exchange failed with an Entra error the catalog has no specific entry for; its AADSTS code and message say why."})
	StorageRequestFailed = findings.Define(findings.Definition{ID: "storage-request-failed", Severity: findings.SeverityError, Layer: findings.LayerStorage,
		Title:       "A blob request failed",
		Explanation: "Blob Storage answered an error the catalog has no specific entry for; its HTTP status and error code say why."})
	ReadBackMismatch = findings.Define(findings.Definition{ID: "probe-read-mismatch", Severity: findings.SeverityError, Layer: findings.LayerStorage,
		Title:       "The probe blob read back different bytes",
		Explanation: "What was written is not what was read: a proxy or gateway rewrites blob bodies, or another writer raced the probe."})
	ProbeBlobLeft = findings.Define(findings.Definition{ID: "probe-blob-left", Severity: findings.SeverityWarning, Layer: findings.LayerStorage,
		Title:       "The probe blob is still there after its delete",
		Explanation: "The identity may write but not delete (a custom role without .../blobs/delete), or soft delete or immutability keeps it; Velero's garbage collection needs delete too. `kubectl aksbackup probe cleanup` removes leftovers."})
	TokenRequestDenied = findings.Define(findings.Definition{ID: "probe-token-request-denied", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "You may not request a token for the component's service account",
		Explanation: "Local mode asks the API server for a short-lived token of the component's service account (create serviceaccounts/token), which your RBAC does not allow."})
	VerifierImagePull = findings.Define(findings.Definition{ID: "verifier-image-pull-failed", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The verifier image cannot be pulled",
		Explanation: "The node cannot pull the verifier image: a private or air-gapped registry needs the image mirrored there and passed with --image."})
	VerifierUnschedulable = findings.Define(findings.Definition{ID: "verifier-unschedulable", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The verifier pod cannot be scheduled",
		Explanation: "No node admits the verifier pod (taints, resources or node selectors); the probe runs where Velero runs only when a node accepts it."})
	VerifierFailed = findings.Define(findings.Definition{ID: "verifier-failed", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The verifier pod ended without a result",
		Explanation: "The verifier container exited or was killed before it wrote its result: see its status and events."})
	ProbeTimeout = findings.Define(findings.Definition{ID: "probe-timeout", Severity: findings.SeverityError, Layer: findings.LayerPlatform,
		Title:       "The probe did not finish in time",
		Explanation: "A step hung until --timeout: a network path that drops packets silently, or a pod that never started."})
	FellBackToLocal = findings.Define(findings.Definition{ID: "probe-local-fallback", Severity: findings.SeverityInfo, Layer: findings.LayerPlatform,
		Title:       "The probe ran from this machine instead of a pod",
		Explanation: "You may not create pods in the component's namespace, so the probe ran in local mode: it proves federation and RBAC, not the pod's network path."})
)
