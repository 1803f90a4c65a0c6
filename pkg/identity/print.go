package identity

import (
	"fmt"
	"io"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/output"
)

// WriteStatus prints the human-readable status: a table of components, a table of pods, then the
// Azure facts and the findings. Pods in the same state share one row (a sample name and how many
// more); -o wide (opts.Wide) lists every pod, with the components' and pods' extra columns. Cells
// come from the cluster and Azure: output.PrintTable redacts them and escapes their control
// characters, so that a tab cannot shift a column nor an escape sequence rewrite the terminal.
func WriteStatus(w io.Writer, st *Status, opts findings.TextOptions) error {
	fmt.Fprintf(w, "Profile %s, namespace %s\n\n", output.Line(st.Profile), output.Line(st.Namespace))
	if err := output.PrintTable(w, componentTable(st), opts.Wide); err != nil {
		return err
	}
	if pods := podTable(st, opts.Wide); len(pods.Rows) > 0 {
		fmt.Fprintln(w)
		if err := output.PrintTable(w, pods, opts.Wide); err != nil {
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

func componentTable(st *Status) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Service Account", Type: "string"}, {Name: "Client ID", Type: "string"}, {Name: "Workload", Type: "string"},
		{Name: "Pod Label", Type: "string"}, {Name: "Injected", Type: "string"}, {Name: "Rollout", Type: "string"},
		{Name: "Tenant ID", Type: "string", Priority: 1}, {Name: "Helm Release", Type: "string", Priority: 1},
	}}
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
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{c.ServiceAccount, clientID, deploy, label, injected, rolloutCol, orDash(c.TenantID), orDash(c.HelmRelease)}})
	}
	return t
}

// podTable has a row per pod with wide, else a row per state: the first pod's name stands for
// the others in the same component and state ("velero-1 (+3 more)").
func podTable(st *Status, wide bool) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{
		{Name: "Pod", Type: "string"}, {Name: "Container", Type: "string"}, {Name: "Injected", Type: "string"}, {Name: "Detail", Type: "string"},
		{Name: "Ready", Type: "string", Priority: 1}, {Name: "Created", Type: "string", Priority: 1},
	}}
	for _, c := range st.Components {
		var order []string
		groups := map[string][]PodInjection{}
		for _, p := range c.Pods {
			key := strings.Join([]string{p.Container, yesNo(p.Injected), podDetail(p)}, "\x00")
			if wide {
				key = p.Name
			}
			if _, seen := groups[key]; !seen {
				order = append(order, key)
			}
			groups[key] = append(groups[key], p)
		}
		for _, key := range order {
			pods := groups[key]
			p := pods[0]
			name := p.Name
			if len(pods) > 1 {
				name = fmt.Sprintf("%s (+%d more)", p.Name, len(pods)-1)
			}
			t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{name, p.Container, yesNo(p.Injected), podDetail(p), yesNo(p.Ready), orDash(p.Created)}})
		}
	}
	return t
}

func podDetail(p PodInjection) string {
	if !p.Injected {
		return "missing: " + strings.Join(p.Missing, ", ")
	}
	return fmt.Sprintf("%s=%s %s=%s %s=%s %s=%s audience=%s", EnvClientID, p.ClientID, EnvTenantID, p.TenantID, EnvTokenFile, p.TokenFile,
		EnvAuthorityHost, p.AuthorityHost, p.Audience)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
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

// ObjectNames lists the objects the status checked, for -o name.
func (s *Status) ObjectNames() []output.ObjectName {
	var out []output.ObjectName
	for _, c := range s.Components {
		out = append(out, output.ObjectName{APIVersion: "v1", Kind: "ServiceAccount", Name: c.ServiceAccount},
			output.ObjectName{APIVersion: "apps/v1", Kind: c.Workload.Kind, Name: c.Workload.Name})
		for _, p := range c.Pods {
			out = append(out, output.ObjectName{APIVersion: "v1", Kind: "Pod", Name: p.Name})
		}
	}
	return out
}
