package identity

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
)

// WriteStatus prints the human-readable status: one row per component, one per pod, then findings.
// Cells come from the cluster and Azure: each is redacted and its control characters escaped
// (output.Line), so that a tab cannot shift a column nor an escape sequence rewrite the terminal.
func WriteStatus(w io.Writer, st *Status, opts findings.TextOptions) error {
	fmt.Fprintf(w, "Profile %s, namespace %s\n\n", output.Line(st.Profile), output.Line(st.Namespace))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE ACCOUNT\tCLIENT ID\tWORKLOAD\tPOD LABEL\tINJECTED\tROLLOUT")
	for _, c := range st.Components {
		clientID := c.ClientID
		switch {
		case !c.ServiceAccountExists:
			clientID = "<missing SA>"
		case clientID == "":
			clientID = "<none>"
		}
		deploy, label, injected, rolloutCol := c.Workload.Ref(), yesNo(c.PodTemplateLabel), fmt.Sprintf("%d/%d", c.InjectedPods, len(c.Pods)), "complete"
		if !c.WorkloadExists {
			deploy, label, injected, rolloutCol = c.Workload.Ref()+" <missing>", "-", "-", "-"
		} else if !c.RolloutComplete {
			rolloutCol = "in progress"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", output.Line(c.ServiceAccount), output.Line(clientID), output.Line(deploy), label, injected, rolloutCol)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	var podRows []string
	for _, c := range st.Components {
		for _, p := range c.Pods {
			detail := "missing: " + output.Line(strings.Join(p.Missing, ", "))
			if p.Injected {
				detail = fmt.Sprintf("%s=%s %s=%s %s=%s %s=%s audience=%s",
					EnvClientID, output.Line(p.ClientID), EnvTenantID, output.Line(p.TenantID), EnvTokenFile, output.Line(p.TokenFile),
					EnvAuthorityHost, output.Line(p.AuthorityHost), output.Line(p.Audience))
			}
			podRows = append(podRows, fmt.Sprintf("%s\t%s\t%s\t%s", output.Line(p.Name), output.Line(p.Container), yesNo(p.Injected), detail))
		}
	}
	if len(podRows) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "POD\tCONTAINER\tINJECTED\tDETAIL")
		for _, r := range podRows {
			fmt.Fprintln(tw, r)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if a := st.Azure; a != nil {
		fmt.Fprintf(w, "\nAzure: cluster %s\n", output.Line(a.ClusterID))
		fmt.Fprintf(w, "  OIDC issuer      %s (workload identity %s)\n", orNone(a.OIDCIssuerURL), enabled(a.WorkloadIdentityEnabled))
		fmt.Fprintf(w, "  extension        %s (%s)\n", orNone(a.Extension), orNone(a.ExtensionState))
		fmt.Fprintf(w, "  identity         %s (client ID %s)\n", orNone(a.IdentityID), orNone(a.IdentityClientID))
		fmt.Fprintf(w, "  federated creds  %d\n", a.FederatedCredentials)
		fmt.Fprintf(w, "  storage          %s, container %s (blob write %s)\n", orNone(a.StorageAccountID), orNone(a.Container), granted(a.BlobWriteGranted))
	}
	if len(st.Findings) > 0 {
		fmt.Fprintln(w)
		if err := findings.WriteText(w, st.Findings, opts); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", findings.SummaryLine(st.Summary))
	return err
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// orNone shows an Azure string, or <none> for an empty one.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return output.Line(s)
}

func enabled(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

func granted(b bool) string {
	if b {
		return "granted"
	}
	return "not granted"
}
