package probekube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/internal/catalog"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/probe"
)

// Labels on everything cluster mode creates; cleanup finds crash leftovers by AppLabel.
const (
	AppLabel      = "app.kubernetes.io/name"
	AppName       = "aksbackup-verifier"
	RunIDLabel    = "aksbackup.kubectl.io/probe-run-id"
	verifierUID   = 65532
	caMountPath   = "/etc/aksbackup/ca"
	containerName = "verifier"
)

// PodOptions describes the verifier pod.
type PodOptions struct {
	Namespace, ServiceAccount, Image, RunID string
	// Args are the verifier's arguments after `probe`.
	Args []string
	// Env holds the component's proxy variables.
	Env []corev1.EnvVar
	// CABundleConfigMap is mounted for the verifier's --ca-bundle-dir ("" = none).
	CABundleConfigMap string
	// Deadline is activeDeadlineSeconds: the kubelet kills the pod after it.
	Deadline time.Duration
}

// VerifierPod builds the pod: the component's service account and the workload identity label, the
// restricted security profile, no API token, small requests and limits, a deadline and the run ID.
func VerifierPod(o PodOptions) *corev1.Pod {
	args := append([]string{"probe"}, o.Args...)
	var volumes []corev1.Volume
	var mounts []corev1.VolumeMount
	if o.CABundleConfigMap != "" {
		volumes = append(volumes, corev1.Volume{Name: "ca-bundle", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: o.CABundleConfigMap}}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "ca-bundle", MountPath: caMountPath, ReadOnly: true})
		args = append(args, "--ca-bundle-dir", caMountPath)
	}
	deadline := int64(o.Deadline.Seconds())
	if deadline < 30 {
		deadline = 30
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "aksbackup-verifier-" + o.RunID, Namespace: o.Namespace,
			Labels: map[string]string{AppLabel: AppName, RunIDLabel: o.RunID, UseLabel: "true"},
		},
		Spec: corev1.PodSpec{
			ServiceAccountName:           o.ServiceAccount,
			AutomountServiceAccountToken: ptr.To(false),
			RestartPolicy:                corev1.RestartPolicyNever,
			ActiveDeadlineSeconds:        &deadline,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(verifierUID)), RunAsGroup: ptr.To(int64(verifierUID)), FSGroup: ptr.To(int64(verifierUID)),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: containerName, Image: o.Image, Args: args, Env: o.Env, VolumeMounts: mounts,
				ImagePullPolicy:          corev1.PullIfNotPresent,
				TerminationMessagePath:   corev1.TerminationMessagePathDefault,
				TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true), RunAsNonRoot: ptr.To(true),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
				},
			}},
			Volumes: volumes,
		},
	}
}

// PodRun is the outcome of one verifier pod.
type PodRun struct {
	// Result is the verifier's result, read from its termination message (nil when it wrote none).
	Result *probe.Result
	// Step is the pod step: scheduling, pulling, running, and why it failed.
	Step probe.Step
	// Deleted reports whether the pod was deleted (false only with Keep).
	Deleted bool
}

// WatchOptions tune RunPod.
type WatchOptions struct {
	// Keep leaves the pod for debugging.
	Keep bool
	// Progress is told each phase change ("scheduled on node-1", "pulling image ...").
	Progress func(string)
	Now      func() time.Time
}

// RunPod creates the verifier pod, watches it until it ends and reads its result. It deletes the pod
// on every way out (success, failure, ctx ending by timeout or signal, any error) unless Keep.
func RunPod(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, o WatchOptions) (run PodRun, err error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	start := o.Now()
	run.Step = probe.Step{Name: probe.StepPod, Endpoint: "pod/" + pod.Name, Status: probe.StatusOK}
	created, err := client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return run, fmt.Errorf("creating the verifier pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	defer func() {
		run.Step.LatencyMS = probe.Millis(o.Now().Sub(start))
		if o.Keep {
			o.Progress(fmt.Sprintf("kept pod %s/%s (--keep); delete it with: kubectl delete pod -n %s %s", pod.Namespace, pod.Name, pod.Namespace, pod.Name))
			return
		}
		// The caller's context may be over (timeout, signal): delete with a fresh one.
		dctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		derr := client.CoreV1().Pods(pod.Namespace).Delete(dctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))})
		if derr != nil && !apierrors.IsNotFound(derr) {
			err = errors.Join(err, fmt.Errorf("deleting the verifier pod: %w; delete it with: kubectl delete pod -n %s %s", derr, pod.Namespace, pod.Name))
			return
		}
		run.Deleted = true
	}()
	o.Progress(fmt.Sprintf("created pod %s/%s", pod.Namespace, pod.Name))
	rv := created.ResourceVersion
	last := ""
	for {
		w, err := client.CoreV1().Pods(pod.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", pod.Name).String(), ResourceVersion: rv})
		if err != nil {
			if ctx.Err() != nil {
				return run, timeoutOrCancel(ctx, &run, last)
			}
			return run, fmt.Errorf("watching the verifier pod: %w", err)
		}
		done, werr := func() (bool, error) {
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return true, timeoutOrCancel(ctx, &run, last)
				case ev, ok := <-w.ResultChan():
					if !ok {
						return false, nil // the watch ended: watch again from the last version
					}
					switch ev.Type {
					case watch.Error:
						return false, nil
					case watch.Deleted:
						run.Step.Status, run.Step.FindingID, run.Step.Detail = probe.StatusFailed, catalog.VerifierFailed.ID, "the pod was deleted before it finished"
						return true, nil
					}
					p, ok := ev.Object.(*corev1.Pod)
					if !ok {
						continue
					}
					rv = p.ResourceVersion
					state, end := inspectPod(p, &run)
					if state != last && state != "" {
						o.Progress(state)
						last = state
					}
					if end {
						return true, nil
					}
				}
			}
		}()
		if done {
			return run, werr
		}
	}
}

// ErrInterrupted: the probe was stopped (SIGINT/SIGTERM) before the pod finished.
var ErrInterrupted = errors.New("interrupted")

func timeoutOrCancel(ctx context.Context, run *PodRun, last string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		run.Step.Status, run.Step.FindingID = probe.StatusFailed, catalog.ProbeTimeout.ID
		run.Step.Detail = "the verifier did not finish in time; last state: " + last
		return nil
	}
	run.Step.Status, run.Step.Detail = probe.StatusFailed, "interrupted; last state: "+last
	return ErrInterrupted
}

// inspectPod reads one pod update: a progress line, and whether the pod is done (finished, or
// stuck in a way that will not fix itself: unschedulable, image not pullable).
func inspectPod(p *corev1.Pod, run *PodRun) (string, bool) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			run.Step.Status, run.Step.FindingID = probe.StatusFailed, catalog.VerifierUnschedulable.ID
			run.Step.Detail = "FailedScheduling: " + c.Message
			if taints := untoleratedTaints(c.Message); taints != "" {
				run.Step.Detail += " (the verifier tolerates no taint; untolerated: " + taints + ")"
			}
			return "unschedulable: " + c.Message, true
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			switch w.Reason {
			case "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull":
				run.Step.Status, run.Step.FindingID = probe.StatusFailed, catalog.VerifierImagePull.ID
				run.Step.Detail = fmt.Sprintf("%s: image %s (--image): %s", w.Reason, cs.Image, w.Message)
				return fmt.Sprintf("%s for --image %s", w.Reason, cs.Image), true
			case "CreateContainerConfigError", "CreateContainerError", "RunContainerError":
				run.Step.Status, run.Step.FindingID, run.Step.Detail = probe.StatusFailed, catalog.VerifierFailed.ID, w.Reason+": "+w.Message
				return w.Reason, true
			}
			return "waiting: " + w.Reason, false
		}
		if t := cs.State.Terminated; t != nil {
			return finished(p, t, run), true
		}
		if cs.State.Running != nil {
			return "running on " + p.Spec.NodeName, false
		}
	}
	switch p.Status.Phase {
	case corev1.PodFailed:
		run.Step.Status, run.Step.FindingID = probe.StatusFailed, catalog.VerifierFailed.ID
		run.Step.Detail = strings.TrimSpace(p.Status.Reason + " " + p.Status.Message)
		return "failed: " + run.Step.Detail, true
	case corev1.PodPending:
		if p.Spec.NodeName != "" {
			return "scheduled on " + p.Spec.NodeName, false
		}
		return "pending", false
	}
	return "", false
}

func finished(p *corev1.Pod, t *corev1.ContainerStateTerminated, run *PodRun) string {
	var res probe.Result
	if err := json.Unmarshal([]byte(t.Message), &res); err != nil || len(res.Steps) == 0 {
		run.Step.Status, run.Step.FindingID = probe.StatusFailed, catalog.VerifierFailed.ID
		run.Step.Detail = fmt.Sprintf("the verifier exited %d (%s) without a result: %s", t.ExitCode, t.Reason, probe.OneLine(errors.New(t.Message)))
		return "ended without a result"
	}
	run.Result = &res
	return fmt.Sprintf("finished on %s (exit %d)", p.Spec.NodeName, t.ExitCode)
}

// untoleratedTaints picks the taints out of the scheduler's message: "had untolerated taint {k: v}".
func untoleratedTaints(msg string) string {
	var out []string
	rest := msg
	for {
		i := strings.Index(rest, "taint {")
		if i < 0 {
			break
		}
		rest = rest[i+len("taint "):]
		j := strings.Index(rest, "}")
		if j < 0 {
			break
		}
		out = append(out, rest[:j+1])
		rest = rest[j+1:]
	}
	return strings.Join(out, ", ")
}

// SelectingEgressPolicies names the NetworkPolicies that select pods with these labels and restrict
// their egress: when the verifier cannot connect, they are the likely cause.
func SelectingEgressPolicies(ctx context.Context, client kubernetes.Interface, namespace string, podLabels map[string]string) ([]string, error) {
	list, err := client.NetworkingV1().NetworkPolicies(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, np := range list.Items {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !sel.Matches(labels.Set(podLabels)) {
			continue
		}
		for _, t := range np.Spec.PolicyTypes {
			if t == networkingv1.PolicyTypeEgress {
				names = append(names, np.Name)
				break
			}
		}
	}
	return names, nil
}

// LabelSelector selects the verifier pods, of one run or (runID "") of all.
func LabelSelector(runID string) string {
	if runID == "" {
		return AppLabel + "=" + AppName
	}
	return AppLabel + "=" + AppName + "," + RunIDLabel + "=" + runID
}
