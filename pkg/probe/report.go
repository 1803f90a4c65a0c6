package probe

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/redact"
)

// Report is `probe -o json`: one result per location probed. Its JSON is a documented contract.
type Report struct {
	APIVersion     string    `json:"apiVersion"`
	Kind           string    `json:"kind"`
	Namespace      string    `json:"namespace"`
	ServiceAccount string    `json:"serviceAccount"`
	Mode           string    `json:"mode"`
	Results        []*Result `json:"results"`
	// Findings not tied to one location: the wiring of the component, the fallback to local mode.
	Findings []findings.Finding `json:"findings,omitempty"`
	Summary  findings.Summary   `json:"summary"`
	// Selector is the flags that select the component again (" --profile velero -n ns"), for fixes.
	Selector string `json:"-"`
}

// NewReport starts a report; apiVersion is the tool's schema version (identity.APIVersion).
func NewReport(apiVersion, namespace, serviceAccount, mode string) *Report {
	return &Report{APIVersion: apiVersion, Kind: "ProbeReport", Namespace: namespace, ServiceAccount: serviceAccount, Mode: mode, Results: []*Result{}}
}

// Add finalizes a result's findings and adds it.
func (r *Report) Add(res *Result) {
	Finalize(res, r.Namespace, r.Selector)
	r.Results = append(r.Results, res)
	r.summarize()
}

// AddFinding adds a finding not tied to one location.
func (r *Report) AddFinding(f findings.Finding) {
	r.Findings = append(r.Findings, f)
	r.summarize()
}

func (r *Report) summarize() {
	var all []findings.Finding
	all = append(all, r.Findings...)
	for _, res := range r.Results {
		all = append(all, res.Findings...)
	}
	r.Summary = findings.Summarize(all)
}

// OK: every probe passed and no error finding.
func (r *Report) OK() bool {
	for _, res := range r.Results {
		if !res.OK {
			return false
		}
	}
	return r.Summary.Errors == 0
}

// Finalize turns the failed (and warning) steps into findings with fixes; selector is the flags that
// select the component in the fix commands.
func Finalize(res *Result, namespace, selector string) {
	res.Findings = nil
	object := "container/" + res.Target.Container
	if res.Target.BSL != "" {
		object = "backupstoragelocation/" + namespace + "/" + res.Target.BSL
	}
	for _, s := range res.Steps {
		if s.FindingID == "" || (s.Status != StatusFailed && s.Status != StatusWarning) {
			continue
		}
		def, ok := findings.Lookup(s.FindingID)
		if !ok {
			def = catalog.StorageRequestFailed
		}
		f := def.New(object, StepMessage(s), Remediation(s.FindingID, namespace, selector, res.Target)...)
		f.Component = res.Target.BSL
		res.Findings = append(res.Findings, f)
	}
}

// StepMessage says which step failed and how: "put failed: HTTP 403 AuthorizationPermissionMismatch: ...".
func StepMessage(s Step) string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %s", s.Name)
	if s.Endpoint != "" {
		fmt.Fprintf(&b, " (%s)", s.Endpoint)
	}
	if s.Status == StatusWarning {
		b.WriteString(" passed with a warning")
	} else {
		b.WriteString(" failed")
	}
	if s.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", s.HTTPStatus)
	}
	if s.Code != "" {
		fmt.Fprintf(&b, " %s", s.Code)
	}
	if s.Detail != "" {
		fmt.Fprintf(&b, ": %s", redact.String(s.Detail))
	}
	return b.String()
}

// Remediation gives the fix for a probe finding.
func Remediation(id, namespace, selector string, t Target) []string {
	rerun := "kubectl aksbackup probe" + selector
	if t.BSL != "" {
		rerun += " --bsl " + t.BSL
	}
	switch id {
	case catalog.BlobDataRoleMissing.ID:
		return []string{"kubectl aksbackup identity configure" + selector + " --yes   # grants Storage Blob Data Contributor on the account",
			"role assignments take up to 10 minutes to apply; then: " + rerun}
	case "federated-credential-mismatch", "application-not-found", "tenant-not-found", "oidc-issuer-unreachable":
		return []string{"kubectl aksbackup identity status" + selector + "   # shows the issuer and subject the credential needs",
			"kubectl aksbackup identity configure" + selector + " --yes", rerun}
	case catalog.WILabelMissing.ID, catalog.WIClientIDMissing.ID, catalog.WINotInjected.ID:
		return []string{"kubectl aksbackup identity configure" + selector + " --yes", rerun}
	case "container-not-found":
		return []string{fmt.Sprintf("az storage container create --name %s --account-name %s --auth-mode login", t.Container, t.Account)}
	case "storage-network-blocked":
		return []string{fmt.Sprintf("az storage account network-rule add --account-name %s --subnet <AKS node subnet ID>   # or a private endpoint", t.Account),
			fmt.Sprintf("az storage account show -n %s --query networkRuleSet", t.Account)}
	case "shared-key-disabled", catalog.StorageKeyMisconfigured.ID:
		if t.BSL != "" {
			return []string{fmt.Sprintf(`kubectl patch bsl -n %s %s --type merge -p '{"spec":{"config":{"useAAD":"true"}}}'`, namespace, t.BSL), rerun}
		}
		return []string{"probe again with --use-aad"}
	case catalog.StorageURIInvalid.ID:
		return []string{"check the BSL's storageAccount / storageAccountURI and the cloud (--cloud, --cloud-config)", rerun}
	case catalog.TLSFailed.ID:
		return []string{"kubectl create configmap -n " + namespace + " proxy-ca --from-file=ca.crt=<your proxy CA>", rerun + " --ca-bundle-configmap proxy-ca"}
	case catalog.EgressDenied.ID:
		return []string{"kubectl get networkpolicy -n " + namespace + "   # allow egress to the storage and Entra endpoints (TCP 443)"}
	case catalog.ProxyFailed.ID:
		return []string{"kubectl get deploy -n " + namespace + " -o yaml | grep -A1 -E 'HTTPS?_PROXY|NO_PROXY'   # is the proxy reachable, and the host allowed?"}
	case catalog.ProbeBlobLeft.ID:
		return []string{"kubectl aksbackup probe cleanup" + selector}
	case catalog.VerifierImagePull.ID:
		return []string{rerun + " --image <your-registry>/aksbackup-verifier:<version>   # see the README for mirroring the image", rerun + " --mode local"}
	case catalog.VerifierUnschedulable.ID:
		return []string{"kubectl describe nodes | grep -i taint", rerun + " --mode local"}
	}
	return nil
}

// WriteText prints each probe's steps as a table, then the findings.
func WriteText(w io.Writer, r *Report, opts findings.TextOptions) error {
	for i, res := range r.Results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		name := res.Target.BSL
		if name == "" {
			name = "(flags)"
		}
		verdict := "PASS"
		if !res.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "%s  %s  %s/%s%s  via %s  (%s mode, run %s, %.0f ms)\n", verdict, name, res.Target.Account, res.Target.Container, prefixSuffix(res.Target.Prefix),
			res.Target.ServiceURL, res.Mode, res.RunID, res.DurationMS)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  STEP\tSTATUS\tLATENCY\tENDPOINT\tRESULT")
		for _, s := range res.Steps {
			latency := "-"
			if s.Status != StatusSkipped {
				latency = fmt.Sprintf("%.0f ms", s.LatencyMS)
			}
			detail := ""
			if s.FindingID != "" {
				detail = s.FindingID
				if s.HTTPStatus != 0 || s.Code != "" {
					detail += fmt.Sprintf(" (%s)", strings.TrimSpace(fmt.Sprintf("%s %s", httpStatus(s.HTTPStatus), s.Code)))
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", s.Name, s.Status, latency, s.Endpoint, detail)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(res.Findings) > 0 {
			fmt.Fprintln(w)
			if err := findings.WriteText(w, res.Findings, opts); err != nil {
				return err
			}
		}
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(w)
		if err := findings.WriteText(w, r.Findings, opts); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\n%s\n", findings.SummaryLine(r.Summary))
	return nil
}

func prefixSuffix(p string) string {
	if p == "" {
		return ""
	}
	return "/" + strings.TrimSuffix(p, "/")
}

func httpStatus(code int) string {
	if code == 0 {
		return ""
	}
	return fmt.Sprintf("HTTP %d", code)
}
