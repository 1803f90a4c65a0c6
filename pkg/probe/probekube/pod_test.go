package probekube

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe"
)

func testPod() *corev1.Pod {
	return VerifierPod(PodOptions{Namespace: "velero", ServiceAccount: "velero", Image: "example.com/aksbackup-verifier:v1", RunID: "abc-0123abcd",
		Args: []string{"--container", "velero"}, Env: []corev1.EnvVar{{Name: "HTTPS_PROXY", Value: "http://proxy:3128"}}, CABundleConfigMap: "proxy-ca", Deadline: time.Minute})
}

func TestVerifierPodIsRestricted(t *testing.T) {
	p := testPod()
	c := p.Spec.Containers[0]
	switch {
	case p.Spec.ServiceAccountName != "velero":
		t.Error("not the component's service account")
	case p.Labels[UseLabel] != "true" || p.Labels[RunIDLabel] != "abc-0123abcd" || p.Labels[AppLabel] != AppName:
		t.Errorf("labels: %v", p.Labels)
	case p.Spec.AutomountServiceAccountToken == nil || *p.Spec.AutomountServiceAccountToken:
		t.Error("the API token is automounted")
	case p.Spec.ActiveDeadlineSeconds == nil || *p.Spec.ActiveDeadlineSeconds != 60:
		t.Error("no activeDeadlineSeconds")
	case p.Spec.SecurityContext.RunAsNonRoot == nil || !*p.Spec.SecurityContext.RunAsNonRoot || *p.Spec.SecurityContext.RunAsUser != 65532:
		t.Error("not non-root 65532")
	case p.Spec.SecurityContext.SeccompProfile == nil || p.Spec.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("no RuntimeDefault seccomp")
	case !*c.SecurityContext.ReadOnlyRootFilesystem || *c.SecurityContext.AllowPrivilegeEscalation || len(c.SecurityContext.Capabilities.Drop) != 1 || c.SecurityContext.Capabilities.Drop[0] != "ALL":
		t.Error("container security context is not restricted")
	case c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero():
		t.Error("no requests or limits")
	case len(p.Spec.Tolerations) != 0:
		t.Error("the verifier must tolerate nothing")
	case c.Env[0].Name != "HTTPS_PROXY":
		t.Error("proxy env not copied")
	case p.Spec.Volumes[0].ConfigMap.Name != "proxy-ca" || !strings.Contains(strings.Join(c.Args, " "), "--ca-bundle-dir "+caMountPath):
		t.Error("CA bundle not mounted")
	}
}

// podScript drives the fake cluster: after the pod is created, the watch delivers these updates.
func fakeCluster(t *testing.T, updates ...func(*corev1.Pod)) (*fake.Clientset, *watch.FakeWatcher) {
	client := fake.NewClientset()
	fw := watch.NewFakeWithChanSize(len(updates)+1, false)
	client.PrependWatchReactor("pods", func(k8stesting.Action) (bool, watch.Interface, error) { return true, fw, nil })
	client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pod := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod).DeepCopy()
		for _, u := range updates {
			u(pod)
			fw.Modify(pod.DeepCopy())
		}
		return false, nil, nil
	})
	return client, fw
}

func scheduled(p *corev1.Pod) { p.Spec.NodeName = "lab-node-real"; p.Status.Phase = corev1.PodPending }
func running(p *corev1.Pod) {
	p.Status.Phase = corev1.PodRunning
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: containerName, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
}
func terminated(message string, code int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodSucceeded
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: containerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Message: message}}}}
	}
}

func verifierResult(t *testing.T, ok bool) string {
	res := probe.Result{RunID: "abc-0123abcd", Mode: "cluster", OK: ok, Steps: []probe.Step{{Name: probe.StepList, Status: probe.StatusOK}}}
	if !ok {
		res.Steps[0] = probe.Step{Name: probe.StepTCP, Status: probe.StatusFailed, FindingID: catalog.ExtensionEgressBlocked.ID, Detail: "dial tcp: i/o timeout"}
	}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// reportedIDs returns the IDs of the findings the probe command reports for a verifier run that
// ended at these steps (probe.Blocked, then Report.Add, which makes each finding from the catalog).
func reportedIDs(steps ...probe.Step) []string {
	rep := probe.NewReport("aksbackup.kubectl.io/v1alpha1", "velero", "velero", "cluster")
	rep.Add(probe.Blocked(probe.Config{RunID: "abc-0123abcd", Mode: "cluster", Target: probe.Target{BSL: "default", Container: "velero"}}, steps...))
	var ids []string
	for _, f := range rep.Results[0].Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

func podGone(t *testing.T, client *fake.Clientset) bool {
	_, err := client.CoreV1().Pods("velero").Get(context.Background(), testPod().Name, metav1.GetOptions{})
	return apierrors.IsNotFound(err)
}

func TestRunPod(t *testing.T) {
	tests := []struct {
		name    string
		updates []func(*corev1.Pod)
		keep    bool
		// cancel ends the context instead of waiting for the pod (a signal); timeout lets it expire.
		cancel, timeout bool
		finding         string
		detail          string
		wantErr         error
		wantResult      bool
	}{
		{name: "success", updates: []func(*corev1.Pod){scheduled, running, terminated(verifierResult(t, true), 0)}, wantResult: true},
		{name: "verifier reports a failure", updates: []func(*corev1.Pod){scheduled, running, terminated(verifierResult(t, false), 1)}, wantResult: true},
		{name: "kept for debugging", updates: []func(*corev1.Pod){scheduled, terminated(verifierResult(t, true), 0)}, keep: true, wantResult: true},
		{name: "image pull backoff names --image", updates: []func(*corev1.Pod){scheduled, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Image: "example.com/aksbackup-verifier:v1", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image"}}}}
		}}, finding: catalog.VerifierImagePull.ID, detail: "example.com/aksbackup-verifier:v1 (--image)"},
		{name: "unschedulable names the taints", updates: []func(*corev1.Pod){func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
				Message: "0/1 nodes are available: 1 node(s) had untolerated taint {kwok.x-k8s.io/node: fake}. preemption: 0/1 nodes are available"}}
		}}, finding: catalog.VerifierUnschedulable.ID, detail: "untolerated: {kwok.x-k8s.io/node: fake}"},
		{name: "ended without a result", updates: []func(*corev1.Pod){scheduled, terminated("panic: boom", 2)}, finding: catalog.VerifierFailed.ID, detail: "exited 2"},
		{name: "timeout while pending", updates: []func(*corev1.Pod){scheduled}, timeout: true, finding: catalog.ProbeTimeout.ID},
		{name: "signal while running", updates: []func(*corev1.Pod){scheduled, running}, cancel: true, wantErr: ErrInterrupted},
		{name: "signal while pending", cancel: true, wantErr: ErrInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, _ := fakeCluster(t, tt.updates...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.timeout {
				ctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
			}
			var progress []string
			onProgress := func(s string) {
				progress = append(progress, s)
				// The "signal" arrives once the pod reached its last scripted state.
				if tt.cancel && (len(progress) == len(tt.updates)+1) {
					cancel()
				}
			}
			run, err := RunPod(ctx, client, testPod(), WatchOptions{Keep: tt.keep, Progress: onProgress})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if (run.Result != nil) != tt.wantResult {
				t.Fatalf("result = %+v, want one: %v; step %+v", run.Result, tt.wantResult, run.Step)
			}
			if tt.finding != "" && (run.Step.FindingID != tt.finding || !strings.Contains(run.Step.Detail, tt.detail)) {
				t.Errorf("pod step = %+v, want %s with %q", run.Step, tt.finding, tt.detail)
			}
			if tt.finding != "" {
				if ids := reportedIDs(run.Step); !slices.Equal(ids, []string{tt.finding}) {
					t.Errorf("reported findings %v, want [%s]", ids, tt.finding)
				}
			}
			if gone := podGone(t, client); gone == tt.keep {
				t.Errorf("pod gone = %v with keep = %v", gone, tt.keep)
			}
			if len(progress) == 0 || !strings.HasPrefix(progress[0], "created pod velero/aksbackup-verifier-") {
				t.Errorf("progress: %q", progress)
			}
		})
	}
}

func TestExplainEgress(t *testing.T) {
	client := fake.NewClientset(
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny-egress", Namespace: "velero"}, Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "ingress-only", Namespace: "velero"}, Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}},
		&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "other-pods", Namespace: "velero"}, Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}},
	)
	names, err := SelectingEgressPolicies(context.Background(), client, "velero", testPod().Labels)
	if err != nil || strings.Join(names, ",") != "deny-egress" {
		t.Fatalf("policies = %v, %v", names, err)
	}
	res := &probe.Result{Steps: []probe.Step{{Name: probe.StepTCP, Status: probe.StatusFailed, FindingID: catalog.ExtensionEgressBlocked.ID}, {Name: probe.StepList, Status: probe.StatusSkipped}}}
	probe.ExplainEgress(res, names)
	if res.Steps[0].FindingID != catalog.EgressDenied.ID || !strings.Contains(res.Steps[0].Detail, "deny-egress") {
		t.Errorf("step = %+v", res.Steps[0])
	}
	if ids := reportedIDs(res.Steps[0]); !slices.Equal(ids, []string{catalog.EgressDenied.ID}) {
		t.Errorf("reported findings %v, want [%s]", ids, catalog.EgressDenied.ID)
	}
}

func TestCleanupPodsDeletesOnlyOldVerifierPods(t *testing.T) {
	now := time.Now()
	old := metav1.NewTime(now.Add(-2 * time.Hour))
	young := metav1.NewTime(now.Add(-time.Minute))
	verifier := map[string]string{AppLabel: AppName}
	client := fake.NewClientset(
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "aksbackup-verifier-old", Namespace: "velero", Labels: verifier, CreationTimestamp: old}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "aksbackup-verifier-running", Namespace: "velero", Labels: verifier, CreationTimestamp: young}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "velero-abc", Namespace: "velero", Labels: map[string]string{"app": "velero"}, CreationTimestamp: old}},
	)
	got, err := CleanupPods(context.Background(), client, "velero", now.Add(-time.Hour), false)
	if err != nil || len(got) != 1 || got[0].Name != "velero/aksbackup-verifier-old" || !got[0].Deleted {
		t.Fatalf("cleanup = %+v, %v", got, err)
	}
	left, _ := client.CoreV1().Pods("velero").List(context.Background(), metav1.ListOptions{})
	if len(left.Items) != 2 {
		t.Errorf("%d pods left, want the young verifier and velero", len(left.Items))
	}
}
