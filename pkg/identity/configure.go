package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/rollout"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/workload"
)

// Phase names of `identity configure`, in the order they run.
const (
	PhaseServiceAccount = "service-account"
	PhasePodLabel       = "pod-label"
	PhaseRestart        = "restart"
)

// Phases lists the in-cluster phases; the Azure phases join this list ahead of them.
var Phases = []plan.Phase{
	{Name: PhaseServiceAccount, Description: "annotate the service accounts with the client ID (and tenant ID)"},
	{Name: PhasePodLabel, Description: `label the workloads' pod templates azure.workload.identity/use: "true"`},
	{Name: PhaseRestart, Description: "restart workloads (deployments, daemonsets, statefulsets) whose running pods lack the injection"},
}

const fieldManager = "kubectl-aksbackup"

// ConfigureRequest is what `identity configure` was asked to do.
type ConfigureRequest struct {
	Profile   profile.Profile
	ClientID  string
	TenantID  string
	Overwrite bool
	Skip      map[string]bool
	Now       time.Time
	// HelmOnly leaves the cluster objects to the product's Helm values: the objects must exist, and
	// nothing in the cluster is planned.
	HelmOnly bool
}

// ConfigurePlan is the validated plan, ready to print and execute.
type ConfigurePlan struct {
	plan.Plan
	// Rollouts lists the workloads (kubectl references, daemonset/node-agent) whose rollout the command
	// waits for after applying.
	Rollouts []string `json:"rollouts"`
	Warnings []string `json:"warnings,omitempty"`
	// HelmValues are the `helm upgrade` flags that keep the wiring across upgrades (Helm-configured products).
	HelmValues []string `json:"helmValues,omitempty"`
	// Access lists the permissions applying needs, checked before any write.
	Access []kube.Access `json:"-"`
}

// PlanConfigure computes every change from a snapshot without writing anything. It refuses, naming
// every problem at once, when an object is missing or an existing value differs and Overwrite is off.
func PlanConfigure(client kubernetes.Interface, snap *Snapshot, req ConfigureRequest) (*ConfigurePlan, error) {
	p := req.Profile
	ns := p.Namespace
	out := &ConfigurePlan{Rollouts: []string{}}
	var problems []error
	needSAPatch := false
	// patchKinds are the workload kinds the plan patches, for the access check.
	patchKinds := map[string]bool{}
	helmOwned := false

	var saChanges, labelChanges, restartChanges []*plan.Change
	planned := map[string]bool{} // service accounts whose annotations are planned
	for _, pair := range p.Pairs {
		sa := snap.ServiceAccounts[pair.ServiceAccount]
		d := snap.Workload(pair.Workload)
		ref := pair.Workload.Ref()
		if sa == nil {
			problems = append(problems, fmt.Errorf("serviceaccount %s not found in namespace %s", pair.ServiceAccount, ns))
		}
		if d == nil {
			problems = append(problems, fmt.Errorf("%s %s not found in namespace %s", pair.Workload.Resource(), pair.Workload.Name, ns))
		}
		if sa == nil || d == nil {
			continue
		}
		if helmRelease(sa.Labels, sa.Annotations) != "" || helmRelease(d.Meta.Labels, d.Meta.Annotations) != "" {
			helmOwned = true
		}
		if podSA := d.Template.Spec.ServiceAccountName; podSA != pair.ServiceAccount {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s runs as service account %q, not %s: annotating %s will not reach its pods", ref, podSA, pair.ServiceAccount, pair.ServiceAccount))
		}
		if req.HelmOnly {
			continue
		}

		// service-account phase
		finalClientID := sa.Annotations[AnnotationClientID]
		if !req.Skip[PhaseServiceAccount] && planned[pair.ServiceAccount] {
			finalClientID = req.ClientID // another pair shares this service account and already planned it
		} else if !req.Skip[PhaseServiceAccount] {
			planned[pair.ServiceAccount] = true
			wanted := map[string]string{AnnotationClientID: req.ClientID}
			if req.TenantID != "" {
				wanted[AnnotationTenantID] = req.TenantID
			}
			for _, key := range sortedKeys(wanted) {
				want, have := wanted[key], sa.Annotations[key]
				if have == want {
					continue
				}
				if have != "" && !req.Overwrite {
					problems = append(problems, fmt.Errorf("serviceaccount %s already has %s=%s; rerun with --overwrite to replace it with %s", pair.ServiceAccount, key, have, want))
					continue
				}
				saChanges = append(saChanges, &plan.Change{
					Phase: PhaseServiceAccount, Action: "annotate", Object: "serviceaccount/" + pair.ServiceAccount, Namespace: ns,
					Field: key, From: have, To: want, State: plan.Planned,
					Apply: annotateServiceAccount(client, ns, pair.ServiceAccount, key, want),
				})
				needSAPatch = true
			}
			finalClientID = req.ClientID
		}

		// pod-label phase
		haveLabel, hasLabel := d.Template.Labels[LabelUse]
		finalLabel := haveLabel == "true"
		templateChanges := false
		if !req.Skip[PhasePodLabel] && haveLabel != "true" {
			if hasLabel && !req.Overwrite {
				problems = append(problems, fmt.Errorf("the pod template of %s has %s=%q; rerun with --overwrite to set it to \"true\"", ref, LabelUse, haveLabel))
			} else {
				labelChanges = append(labelChanges, &plan.Change{
					Phase: PhasePodLabel, Action: "label", Object: ref, Namespace: ns,
					Field: "spec.template.metadata.labels[" + LabelUse + "]", From: haveLabel, To: "true", State: plan.Planned,
					Apply: labelPodTemplate(client, ns, pair.Workload),
				})
				patchKinds[pair.Workload.Kind], finalLabel, templateChanges = true, true, true
			}
		}

		// restart phase
		switch {
		case templateChanges:
			restartChanges = append(restartChanges, &plan.Change{
				Phase: PhaseRestart, Action: "rollout", Object: ref, Namespace: ns,
				Reason: "the pod template changes, so the " + pair.Workload.Resource() + " rolls out by itself", State: plan.Planned,
			})
			out.Rollouts = append(out.Rollouts, ref)
		case !finalLabel:
			out.Warnings = append(out.Warnings, fmt.Sprintf("the pod template of %s keeps lacking %s=true (phase %s skipped): a restart would not inject the identity", ref, LabelUse, PhasePodLabel))
		default:
			reason := podsNeedRestart(snap, d, pair, finalClientID)
			if reason == "" {
				break
			}
			if req.Skip[PhaseRestart] {
				out.Warnings = append(out.Warnings, fmt.Sprintf("%s: %s, but phase %s is skipped; run `kubectl aksbackup restart%s` later", ref, reason, PhaseRestart, p.SelectorFlags()))
				break
			}
			restartChanges = append(restartChanges, &plan.Change{
				Phase: PhaseRestart, Action: "restart", Object: ref, Namespace: ns,
				Reason: reason, State: plan.Planned,
				Apply: func(ctx context.Context, dryRun bool) error {
					return rollout.Restart(ctx, client, ns, pair.Workload, req.Now, dryRun)
				},
			})
			out.Rollouts = append(out.Rollouts, ref)
			patchKinds[pair.Workload.Kind] = true
		}
	}
	if len(problems) > 0 {
		return nil, utilerrors.NewAggregate(problems)
	}
	out.Add(saChanges...)
	out.Add(labelChanges...)
	out.Add(restartChanges...)

	if needSAPatch {
		out.Access = append(out.Access, kube.Access{Verb: "patch", Resource: "serviceaccounts", Namespace: ns})
	}
	for _, kind := range []string{profile.KindDeployment, profile.KindDaemonSet, profile.KindStatefulSet} {
		if patchKinds[kind] {
			out.Access = append(out.Access, kube.Access{Verb: "patch", Group: "apps", Resource: workload.Resource(kind), Namespace: ns})
		}
	}
	if helmOwned && !out.Plan.Empty() {
		owner := "Helm"
		if p.Owner != "" {
			owner = p.Owner
		}
		out.Warnings = append(out.Warnings, "these objects are Helm-managed ("+owner+"); `kubectl aksbackup identity status` shows any drift after an upgrade")
	}
	if p.Helm != nil {
		out.HelmValues = HelmSetFlags(p, req.ClientID)
	}
	return out, nil
}

// podsNeedRestart says why the workload's running pods need a restart once the wiring is final, or "".
func podsNeedRestart(snap *Snapshot, d *workload.Object, pair profile.Pair, finalClientID string) string {
	pods := d.PodsOf(snap.Pods)
	for i := range pods {
		inj := inspectPod(&pods[i], pair.StorageContainer)
		switch {
		case !inj.Labelled:
			return "pods were created before the pod template label"
		case !inj.Injected:
			return "pods lack the workload identity injection"
		case inj.ClientID != finalClientID:
			return fmt.Sprintf("pods run with %s %s", EnvClientID, inj.ClientID)
		}
	}
	return ""
}

func annotateServiceAccount(client kubernetes.Interface, ns, name, key, value string) func(context.Context, bool) error {
	return func(ctx context.Context, dryRun bool) error {
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{key: value}}})
		if err != nil {
			return err
		}
		_, err = client.CoreV1().ServiceAccounts(ns).Patch(ctx, name, types.MergePatchType, patch, patchOptions(dryRun))
		return err
	}
}

func labelPodTemplate(client kubernetes.Interface, ns string, w profile.Workload) func(context.Context, bool) error {
	return func(ctx context.Context, dryRun bool) error {
		patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"labels": map[string]string{LabelUse: "true"}}}}})
		if err != nil {
			return err
		}
		return workload.Patch(ctx, client, ns, w, types.MergePatchType, patch, patchOptions(dryRun))
	}
}

func patchOptions(dryRun bool) metav1.PatchOptions {
	opts := metav1.PatchOptions{FieldManager: fieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return opts
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
