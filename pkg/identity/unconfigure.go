package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/plan"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/profile"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/rollout"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/workload"
)

// UnconfigurePhases are the in-cluster phases of `identity unconfigure`, named as configure's.
var UnconfigurePhases = []plan.Phase{
	{Name: PhaseServiceAccount, Description: "remove the client-id annotation configure set, where it still holds the identity's client ID"},
	{Name: PhasePodLabel, Description: `remove the pod-template label azure.workload.identity/use: "true" configure set`},
	{Name: PhaseRestart, Description: "roll out the workloads whose pods still run with the identity injected"},
}

// UnconfigureRequest is what `identity unconfigure` was asked to undo.
type UnconfigureRequest struct {
	Profile profile.Profile
	// ClientID is the value configure annotated: the identity's, or --client-id without Azure.
	ClientID string
	Skip     map[string]bool
	Now      time.Time
}

// UnconfigurePlan is the validated undo plan, ready to print and execute.
type UnconfigurePlan struct {
	plan.Plan
	// Rollouts lists the workloads (kubectl references) whose rollout the command waits for.
	Rollouts []string `json:"rollouts"`
	Warnings []string `json:"warnings,omitempty"`
	// Access lists the permissions applying needs, checked before any write.
	Access []kube.Access `json:"-"`
}

// PlanUnconfigure plans the removal of exactly what configure set in the cluster: the client-id
// annotation while it holds req.ClientID, and the pod-template label while it is "true", each only
// when configure's field manager is the field's sole manager (so a value Helm or a person set, even
// the same one, stays). The restartedAt annotation configure's restart stamped is removed with the
// label, or as the restart when only the annotation goes, so the template returns to what it was.
// Everything left alone that configure might have set is listed as a keep row saying why.
func PlanUnconfigure(client kubernetes.Interface, snap *Snapshot, req UnconfigureRequest) *UnconfigurePlan {
	p := req.Profile
	ns := p.Namespace
	out := &UnconfigurePlan{Rollouts: []string{}}
	var saChanges, labelChanges, restartChanges []*plan.Change
	needSAPatch, helmOwned := false, false
	patchKinds := map[string]bool{}

	seenSA := map[string]bool{}
	for _, pair := range p.Pairs {
		sa := snap.ServiceAccounts[pair.ServiceAccount]
		firstOfSA := !seenSA[pair.ServiceAccount]
		seenSA[pair.ServiceAccount] = true
		d := snap.Workload(pair.Workload)
		if sa == nil && firstOfSA {
			out.Warnings = append(out.Warnings, fmt.Sprintf("serviceaccount %s not found in namespace %s: nothing to remove from it", pair.ServiceAccount, ns))
		} else if helmRelease(sa.Labels, sa.Annotations) != "" {
			helmOwned = true
		}
		if d == nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s not found in namespace %s: nothing to remove from it", pair.Workload, ns))
		} else if helmRelease(d.Meta.Labels, d.Meta.Annotations) != "" {
			helmOwned = true
		}
		saRef, deployRef := "serviceaccount/"+pair.ServiceAccount, pair.Workload.Ref()

		// service-account phase (once per service account: workloads may share one, as Velero's do)
		annotationGoes := slices.ContainsFunc(saChanges, func(c *plan.Change) bool { return c.Object == saRef && c.Apply != nil })
		if sa != nil && firstOfSA && !req.Skip[PhaseServiceAccount] {
			field := "metadata.annotations[" + AnnotationClientID + "]"
			switch have := sa.Annotations[AnnotationClientID]; {
			case have == "":
			case !strings.EqualFold(have, req.ClientID):
				saChanges = append(saChanges, keep(PhaseServiceAccount, saRef, ns, field,
					fmt.Sprintf("holds %s, not the client ID %s configure sets: changed since, or set by someone else", have, req.ClientID)))
			default:
				if why := notConfigures(sa.ObjectMeta, "metadata", "annotations", AnnotationClientID); why != "" {
					saChanges = append(saChanges, keep(PhaseServiceAccount, saRef, ns, field, why))
					break
				}
				saChanges = append(saChanges, &plan.Change{
					Phase: PhaseServiceAccount, Action: "remove", Object: saRef, Namespace: ns,
					Field: AnnotationClientID, From: have, To: "<none>", State: plan.Planned,
					Apply: patchServiceAccount(client, ns, pair.ServiceAccount, map[string]any{"metadata": map[string]any{"annotations": map[string]any{AnnotationClientID: nil}}}),
				})
				annotationGoes, needSAPatch = true, true
			}
		}
		if d == nil {
			continue
		}

		// pod-label phase
		labelGoes := false
		labelField := "spec.template.metadata.labels[" + LabelUse + "]"
		if have, has := d.Template.Labels[LabelUse]; has && !req.Skip[PhasePodLabel] {
			switch why := notConfigures(*d.Meta, "spec", "template", "metadata", "labels", LabelUse); {
			case have != "true":
				labelChanges = append(labelChanges, keep(PhasePodLabel, deployRef, ns, labelField, fmt.Sprintf("is %q, not the \"true\" configure sets", have)))
			case why != "":
				labelChanges = append(labelChanges, keep(PhasePodLabel, deployRef, ns, labelField, why))
			default:
				labelGoes = true
			}
		}

		// restart phase: the pods keep their injection until they are replaced.
		restartedAt, stamped := d.Template.Annotations[rollout.RestartedAtAnnotation]
		stampGoes := stamped && !req.Skip[PhaseRestart] &&
			notConfigures(*d.Meta, "spec", "template", "metadata", "annotations", rollout.RestartedAtAnnotation) == ""
		podsInjected := podsRunningWith(d, snap, pair, req.ClientID) > 0
		stampField := "spec.template.metadata.annotations[" + rollout.RestartedAtAnnotation + "]"
		switch {
		case labelGoes:
			templatePatch := map[string]any{"labels": map[string]any{LabelUse: nil}}
			reason := "the pod template changes, so the " + pair.Workload.Resource() + " rolls out by itself"
			if stampGoes {
				templatePatch["annotations"] = map[string]any{rollout.RestartedAtAnnotation: nil}
				reason = "configure's restart stamp goes in the same patch as the label, so the " + pair.Workload.Resource() + " rolls out once"
			}
			labelChanges = append(labelChanges, &plan.Change{
				Phase: PhasePodLabel, Action: "remove", Object: deployRef, Namespace: ns,
				Field: labelField, From: "true", To: "<none>", State: plan.Planned,
				Apply: patchWorkload(client, ns, pair.Workload, map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": templatePatch}}}),
			})
			rolloutRow := &plan.Change{Phase: PhaseRestart, Action: "rollout", Object: deployRef, Namespace: ns, Reason: reason, State: plan.Planned}
			if stampGoes {
				rolloutRow.Field, rolloutRow.From, rolloutRow.To = stampField, restartedAt, "<none>"
			}
			restartChanges = append(restartChanges, rolloutRow)
			out.Rollouts = append(out.Rollouts, pair.Workload.Ref())
			patchKinds[pair.Workload.Kind] = true
		case !annotationGoes || !podsInjected:
		case req.Skip[PhaseRestart]:
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: pods run with %s %s until they are replaced, but phase %s is skipped; run `kubectl aksbackup restart%s` later",
				pair.Workload, EnvClientID, req.ClientID, PhaseRestart, p.SelectorFlags()))
		case stampGoes:
			restartChanges = append(restartChanges, &plan.Change{
				Phase: PhaseRestart, Action: "remove", Object: deployRef, Namespace: ns,
				Field: stampField, From: restartedAt, To: "<none>", State: plan.Planned,
				Reason: "pods run with the client ID; removing the stamp configure's restart set rolls them out and restores the template",
				Apply:  patchWorkload(client, ns, pair.Workload, map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"annotations": map[string]any{rollout.RestartedAtAnnotation: nil}}}}}),
			})
			out.Rollouts = append(out.Rollouts, pair.Workload.Ref())
			patchKinds[pair.Workload.Kind] = true
		default:
			restartChanges = append(restartChanges, &plan.Change{
				Phase: PhaseRestart, Action: "restart", Object: deployRef, Namespace: ns,
				Reason: "pods run with the client ID until they are replaced", State: plan.Planned,
				Apply: func(ctx context.Context, dryRun bool) error {
					return rollout.Restart(ctx, client, ns, pair.Workload, req.Now, dryRun)
				},
			})
			out.Rollouts = append(out.Rollouts, pair.Workload.Ref())
			patchKinds[pair.Workload.Kind] = true
		}
	}
	out.Add(saChanges...)
	out.Add(labelChanges...)
	out.Add(restartChanges...)
	if needSAPatch {
		out.Access = append(out.Access, kube.Access{Verb: "patch", Resource: "serviceaccounts", Namespace: ns})
	}
	for _, kind := range slices.Sorted(maps.Keys(patchKinds)) {
		out.Access = append(out.Access, kube.Access{Verb: "patch", Group: "apps", Resource: workload.Resource(kind), Namespace: ns})
	}
	if helmOwned && !out.Plan.Empty() {
		out.Warnings = append(out.Warnings, "these objects are Helm-managed; if the release's values hold the wiring, the next helm upgrade puts it back")
	}
	return out
}

func keep(phase, object, ns, field, why string) *plan.Change {
	return &plan.Change{Phase: phase, Action: plan.ActionKeep, Object: object, Namespace: ns, Field: field, Reason: why, State: plan.Planned}
}

// PodsRunningWith counts the running pods of the profile's workloads injected with clientID, and
// all their running pods: after unconfigure and the rollouts, the first number must be 0.
func PodsRunningWith(p profile.Profile, snap *Snapshot, clientID string) (injected, total int) {
	for _, pair := range p.Pairs {
		if w := snap.Workload(pair.Workload); w != nil {
			injected += podsRunningWith(w, snap, pair, clientID)
			total += len(w.PodsOf(snap.Pods))
		}
	}
	return injected, total
}

func podsRunningWith(w *workload.Object, snap *Snapshot, pair profile.Pair, clientID string) int {
	n := 0
	pods := w.PodsOf(snap.Pods)
	for i := range pods {
		if inj := inspectPod(&pods[i], pair.StorageContainer); !inj.Untouched && strings.EqualFold(inj.ClientID, clientID) {
			n++
		}
	}
	return n
}

// notConfigures says why a field is not configure's to remove, or "" when it is: configure's field
// manager must be its only manager. An object without managedFields (an API server that does not
// track them) gives no evidence either way, and the value alone decides.
func notConfigures(meta metav1.ObjectMeta, path ...string) string {
	if len(meta.ManagedFields) == 0 {
		return ""
	}
	owners := FieldManagers(meta.ManagedFields, path...)
	switch {
	case len(owners) == 0:
		return "no field manager is recorded for it, so configure did not set it"
	case !slices.Contains(owners, fieldManager):
		return "set by " + strings.Join(owners, ", ") + ", not by configure"
	case len(owners) > 1:
		return "also managed by " + strings.Join(slices.DeleteFunc(owners, func(m string) bool { return m == fieldManager }), ", ")
	}
	return ""
}

// FieldManagers lists the managers whose managedFields entry holds the field at path (the object's
// JSON keys, e.g. "metadata", "annotations", KEY), sorted and without duplicates.
func FieldManagers(entries []metav1.ManagedFieldsEntry, path ...string) []string {
	var out []string
	for _, e := range entries {
		if e.FieldsV1 == nil || e.Subresource != "" {
			continue
		}
		var node map[string]any
		if json.Unmarshal(e.FieldsV1.Raw, &node) != nil {
			continue
		}
		found := true
		for _, key := range path {
			next, ok := node["f:"+key].(map[string]any)
			if !ok {
				found = false
				break
			}
			node = next
		}
		if found && !slices.Contains(out, e.Manager) {
			out = append(out, e.Manager)
		}
	}
	slices.Sort(out)
	return out
}

func patchServiceAccount(client kubernetes.Interface, ns, name string, patch map[string]any) func(context.Context, bool) error {
	return func(ctx context.Context, dryRun bool) error {
		data, err := json.Marshal(patch)
		if err != nil {
			return err
		}
		_, err = client.CoreV1().ServiceAccounts(ns).Patch(ctx, name, types.MergePatchType, data, patchOptions(dryRun))
		return err
	}
}

func patchWorkload(client kubernetes.Interface, ns string, w profile.Workload, patch map[string]any) func(context.Context, bool) error {
	return func(ctx context.Context, dryRun bool) error {
		data, err := json.Marshal(patch)
		if err != nil {
			return err
		}
		return workload.Patch(ctx, client, ns, w, types.MergePatchType, data, patchOptions(dryRun))
	}
}
