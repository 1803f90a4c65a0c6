package identity

import (
	"fmt"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/findings"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/rollout"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/workload"
)

// APIVersion versions the documented JSON/YAML output schema.
const APIVersion = "aksbackup.kubectl.io/v1alpha1"

// Status is the document `identity status -o json|yaml` prints.
type Status struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Profile    string      `json:"profile"`
	Namespace  string      `json:"namespace"`
	Components []Component `json:"components"`
	// Azure is present when the Azure checks ran.
	Azure    *AzureSummary      `json:"azure,omitempty"`
	Findings []findings.Finding `json:"findings"`
	Summary  findings.Summary   `json:"summary"`
}

// AzureSummary is the Azure section of `identity status -o json`: plain facts, filled by the Azure
// checks (azurecheck.Summarize), so that this package never links the Azure SDK.
type AzureSummary struct {
	ClusterID               string `json:"clusterId"`
	OIDCIssuerURL           string `json:"oidcIssuerURL,omitempty"`
	APIServerIssuer         string `json:"apiServerIssuer,omitempty"`
	WorkloadIdentityEnabled bool   `json:"workloadIdentityEnabled"`
	Extension               string `json:"extension,omitempty"`
	ExtensionState          string `json:"extensionProvisioningState,omitempty"`
	IdentityID              string `json:"identityId,omitempty"`
	IdentityClientID        string `json:"identityClientId,omitempty"`
	IdentityPrincipalID     string `json:"identityPrincipalId,omitempty"`
	FederatedCredentials    int    `json:"federatedCredentials"`
	StorageAccountID        string `json:"storageAccountId,omitempty"`
	Container               string `json:"container,omitempty"`
	BlobWriteGranted        bool   `json:"blobWriteGranted"`
}

// AddFindings merges findings from other checks (Azure) and ranks everything together, so a root
// cause in Azure explains a symptom in the cluster.
func (s *Status) AddFindings(more ...findings.Finding) {
	s.Findings = findings.Rank(append(s.Findings, more...))
	s.Summary = findings.Summarize(s.Findings)
}

// AnnotatedClientIDs maps each service account to its client-id annotation.
func (s *Status) AnnotatedClientIDs() map[string]string {
	out := map[string]string{}
	for _, c := range s.Components {
		out[c.ServiceAccount] = c.ClientID
	}
	return out
}

// Component is the state of one service account / workload pair.
type Component struct {
	ServiceAccount        string           `json:"serviceAccount"`
	Workload              profile.Workload `json:"workload"`
	ServiceAccountExists  bool             `json:"serviceAccountExists"`
	WorkloadExists        bool             `json:"workloadExists"`
	ClientID              string           `json:"clientId,omitempty"`
	TenantID              string           `json:"tenantId,omitempty"`
	PodTemplateLabel      bool             `json:"podTemplateLabel"`
	HelmRelease           string           `json:"helmRelease,omitempty"`
	RolloutComplete       bool             `json:"rolloutComplete"`
	RolloutMessage        string           `json:"rolloutMessage,omitempty"`
	Pods                  []PodInjection   `json:"pods"`
	InjectedPods          int              `json:"injectedPods"`
	PodServiceAccountName string           `json:"podServiceAccountName,omitempty"`
}

// Healthy reports whether the status has no error findings.
func (s *Status) Healthy() bool { return s.Summary.Errors == 0 }

// Analyze turns a snapshot into components and ranked findings. It reads nothing from the cluster.
func Analyze(p profile.Profile, snap *Snapshot) *Status {
	st := &Status{APIVersion: APIVersion, Kind: "IdentityStatus", Profile: p.Name, Namespace: p.Namespace}
	var fs []findings.Finding
	fixCmd := "kubectl aksbackup identity configure" + p.SelectorFlags()
	clientIDs := map[string][]string{}
	helmReleases := map[string]bool{}

	knownClientID := ""
	for _, pair := range p.Pairs {
		if sa := snap.ServiceAccounts[pair.ServiceAccount]; sa != nil && IsGUID(sa.Annotations[AnnotationClientID]) {
			knownClientID = sa.Annotations[AnnotationClientID]
			break
		}
	}
	clientIDArg := "<CLIENT_ID>"
	if knownClientID != "" {
		clientIDArg = knownClientID
	}

	saSeen := map[string]bool{}
	for _, pair := range p.Pairs {
		c := Component{ServiceAccount: pair.ServiceAccount, Workload: pair.Workload, Pods: []PodInjection{}}
		saRef := "serviceaccount/" + pair.ServiceAccount
		deployRef := pair.Workload.Ref()
		kind, name := pair.Workload.Resource(), pair.Workload.Name
		add := func(def *findings.Definition, object, message string, fixes ...string) {
			f := def.New(object, message, fixes...)
			f.Component = pair.Workload.Name
			fs = append(fs, f)
		}
		// Pairs may share a service account (Velero's server and node-agent): report it once.
		firstUse := !saSeen[pair.ServiceAccount]
		saSeen[pair.ServiceAccount] = true
		addSA := func(def *findings.Definition, object, message string, fixes ...string) {
			if firstUse {
				add(def, object, message, fixes...)
			}
		}

		sa := snap.ServiceAccounts[pair.ServiceAccount]
		if sa == nil {
			addSA(catalog.ServiceAccountMissing, saRef, fmt.Sprintf("service account %s not found in namespace %s", pair.ServiceAccount, p.Namespace),
				fmt.Sprintf("kubectl create serviceaccount -n %s %s", p.Namespace, pair.ServiceAccount))
		} else {
			c.ServiceAccountExists = true
			c.ClientID, c.TenantID = sa.Annotations[AnnotationClientID], sa.Annotations[AnnotationTenantID]
			if r := helmRelease(sa.Labels, sa.Annotations); r != "" {
				helmReleases[r] = true
				c.HelmRelease = r
			}
			switch {
			case c.ClientID == "":
				addSA(catalog.WIClientIDMissing, saRef, fmt.Sprintf("service account %s has no %s annotation", pair.ServiceAccount, AnnotationClientID),
					fixCmd+" --client-id "+clientIDArg,
					fmt.Sprintf("kubectl annotate serviceaccount -n %s %s %s=%s", p.Namespace, pair.ServiceAccount, AnnotationClientID, clientIDArg))
			case !IsGUID(c.ClientID):
				addSA(catalog.WIClientIDInvalid, saRef, fmt.Sprintf("%s is %q, not a GUID", AnnotationClientID, c.ClientID),
					fixCmd+" --overwrite --client-id "+clientIDArg)
			case firstUse:
				clientIDs[c.ClientID] = append(clientIDs[c.ClientID], pair.ServiceAccount)
			}
			if c.TenantID != "" && !IsGUID(c.TenantID) {
				addSA(catalog.WITenantIDInvalid, saRef, fmt.Sprintf("%s is %q, not a GUID", AnnotationTenantID, c.TenantID),
					fmt.Sprintf("kubectl annotate serviceaccount -n %s %s %s=<TENANT_ID> --overwrite", p.Namespace, pair.ServiceAccount, AnnotationTenantID))
			}
		}

		d := snap.Workload(pair.Workload)
		if d == nil {
			add(catalog.DeploymentMissing, deployRef, fmt.Sprintf("%s %s not found in namespace %s", kind, name, p.Namespace),
				"check the namespace (-n) and profile (--profile); for AKS Backup: az k8s-extension show --name azure-aks-backup --cluster-type managedClusters ...")
			st.Components = append(st.Components, c)
			continue
		}
		c.WorkloadExists = true
		if r := helmRelease(d.Meta.Labels, d.Meta.Annotations); r != "" {
			helmReleases[r] = true
			c.HelmRelease = r
		}
		template := d.Template
		c.PodServiceAccountName = template.Spec.ServiceAccountName
		if c.PodServiceAccountName == "" {
			c.PodServiceAccountName = "default"
		}
		if c.PodServiceAccountName != pair.ServiceAccount {
			add(catalog.DeploymentServiceAccountMismatch, deployRef,
				fmt.Sprintf("pods of %s run as service account %s, not %s", deployRef, c.PodServiceAccountName, pair.ServiceAccount),
				fmt.Sprintf("annotate serviceaccount %s instead, or fix the profile with --service-account %s --workload %s", c.PodServiceAccountName, c.PodServiceAccountName, deployRef))
		}
		c.PodTemplateLabel = template.Labels[LabelUse] == "true"
		if !c.PodTemplateLabel {
			add(catalog.WILabelMissing, deployRef, labelMissingMessage(d, sa), fixCmd+" --client-id "+clientIDArg,
				fmt.Sprintf(`kubectl patch %s -n %s %s --type=merge -p '{"spec":{"template":{"metadata":{"labels":{"%s":"true"}}}}}'`, kind, p.Namespace, name, LabelUse))
		}
		if pair.StorageContainer != "" && skippedContainers(template.Annotations)[pair.StorageContainer] {
			add(catalog.WIContainerSkipped, deployRef, fmt.Sprintf("the pod template annotation %s lists the %s container", AnnotationSkipContainers, pair.StorageContainer),
				fmt.Sprintf("remove %s from the %s annotation of the pod template", pair.StorageContainer, AnnotationSkipContainers))
		}

		c.RolloutComplete, c.RolloutMessage = rolloutState(d)
		if !c.RolloutComplete {
			add(catalog.RolloutIncomplete, deployRef, c.RolloutMessage, fmt.Sprintf("kubectl rollout status %s -n %s %s", kind, p.Namespace, name))
		}

		pods := d.PodsOf(snap.Pods)
		switch {
		case len(pods) > 0:
		case d.Desired == 0 && d.ScalesToZero && pair.StorageContainer != "":
			// The workload that talks to storage (Velero) is the one that runs backups: none run now.
			add(catalog.BackupServerScaledDown, deployRef, fmt.Sprintf("%s %s, which runs container %s, has 0 replicas", kind, name, pair.StorageContainer),
				fmt.Sprintf("kubectl scale %s -n %s %s --replicas=1", kind, p.Namespace, name))
		case d.Desired == 0 && d.ScalesToZero:
			add(catalog.DeploymentScaledDown, deployRef, fmt.Sprintf("%s %s has 0 replicas", kind, name),
				fmt.Sprintf("kubectl scale %s -n %s %s --replicas=1", kind, p.Namespace, name))
		case d.Desired == 0:
			add(catalog.DeploymentNoPods, deployRef, fmt.Sprintf("daemonset %s schedules no pods: no node matches its node selector, affinity and tolerations", name),
				fmt.Sprintf("kubectl describe %s -n %s %s", kind, p.Namespace, name), "kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints")
		default:
			add(catalog.DeploymentNoPods, deployRef, fmt.Sprintf("%s %s has no running pods (wants %d)", kind, name, d.Desired),
				fmt.Sprintf("kubectl describe %s -n %s %s", kind, p.Namespace, name))
		}
		var stale, untouched, lacking []string
		var missingSample []string
		for i := range pods {
			inj := inspectPod(&pods[i], pair.StorageContainer)
			c.Pods = append(c.Pods, inj)
			wantClientID := c.ClientID
			switch {
			case inj.Injected && wantClientID != "" && inj.ClientID != wantClientID:
				stale = append(stale, fmt.Sprintf("%s (has %s %s)", inj.Name, EnvClientID, inj.ClientID))
			case inj.Injected:
				c.InjectedPods++
			default:
				lacking = append(lacking, inj.Name)
				missingSample = inj.Missing
				switch {
				case c.PodTemplateLabel && !inj.Labelled,
					inj.Labelled && !inj.Untouched && wantClientID != "" && inj.ClientID == "":
					// Created before the label was added, or before the annotation was.
					stale = append(stale, inj.Name)
				case inj.Labelled && inj.Untouched:
					untouched = append(untouched, inj.Name)
				}
			}
		}
		restartCmd := fmt.Sprintf("kubectl aksbackup restart%s", p.SelectorFlags())
		if len(stale) > 0 {
			add(catalog.WIRestartNeeded, deployRef, fmt.Sprintf("%d pod(s) were created before the current wiring: %s", len(stale), strings.Join(stale, ", ")),
				restartCmd, fmt.Sprintf("kubectl rollout restart %s -n %s %s", kind, p.Namespace, name))
		}
		if len(untouched) > 0 {
			add(catalog.WIWebhookNotInjecting, deployRef, fmt.Sprintf("pods %s carry the %s label but the webhook added nothing", strings.Join(untouched, ", "), LabelUse),
				"az aks update --resource-group <RG> --name <CLUSTER> --enable-oidc-issuer --enable-workload-identity",
				"kubectl get mutatingwebhookconfigurations | grep -i workload-identity", restartCmd)
		}
		if len(lacking) > 0 {
			add(catalog.WINotInjected, deployRef, fmt.Sprintf("%d of %d pod(s) lack the injection (%s): %s", len(lacking), len(pods), strings.Join(missingSample, ", "), strings.Join(lacking, ", ")),
				fixCmd+" --client-id "+clientIDArg)
		}
		st.Components = append(st.Components, c)
	}

	if len(clientIDs) > 1 {
		var parts []string
		for id, sas := range clientIDs {
			parts = append(parts, fmt.Sprintf("%s on %s", id, strings.Join(sas, ", ")))
		}
		sort.Strings(parts)
		fs = append(fs, catalog.WIClientIDInconsistent.New("namespace/"+p.Namespace, "client IDs differ: "+strings.Join(parts, "; "),
			fixCmd+" --overwrite --client-id <CLIENT_ID>"))
	}
	if len(helmReleases) > 0 {
		fs = append(fs, catalog.HelmManaged.New("namespace/"+p.Namespace, helmMessage(p, helmReleases), HelmSetFlags(p, knownClientIDOr(knownClientID))...))
	}
	st.Findings = findings.Rank(fs)
	if st.Findings == nil {
		st.Findings = []findings.Finding{}
	}
	st.Summary = findings.Summarize(st.Findings)
	return st
}

func knownClientIDOr(id string) string {
	if id == "" {
		return "<CLIENT_ID>"
	}
	return id
}

func labelMissingMessage(d *workload.Object, sa *corev1.ServiceAccount) string {
	msg := fmt.Sprintf("the pod template of %s lacks the label %s: \"true\"", d.Ref, LabelUse)
	if v, ok := d.Template.Labels[LabelUse]; ok {
		msg = fmt.Sprintf("the pod template of %s has %s: %q; the webhook acts only on \"true\"", d.Ref, LabelUse, v)
	}
	var misplaced []string
	if d.Meta.Labels[LabelUse] == "true" {
		misplaced = append(misplaced, "the "+d.Ref.Resource()+"'s own metadata")
	}
	if sa != nil && sa.Labels[LabelUse] == "true" {
		misplaced = append(misplaced, "the service account")
	}
	if len(misplaced) > 0 {
		msg += "; it is set on " + strings.Join(misplaced, " and ") + ", where the webhook does not look"
	}
	return msg
}

func helmMessage(p profile.Profile, releases map[string]bool) string {
	names := make([]string, 0, len(releases))
	for r := range releases {
		names = append(names, r)
	}
	sort.Strings(names)
	msg := "objects belong to Helm release " + strings.Join(names, ", ")
	if p.Owner != "" {
		msg += " (" + p.Owner + ")"
	}
	return msg
}

// rolloutState reports the workload's rollout as `kubectl rollout status` would.
func rolloutState(d *workload.Object) (bool, string) {
	done, msg, err := rollout.State(d)
	if err != nil {
		return false, err.Error()
	}
	return done, msg
}
