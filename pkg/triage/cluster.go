package triage

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/pkg/kube/paged"
)

// ClusterSource says which logs to read from a live cluster.
type ClusterSource struct {
	Namespace string
	// Deployments whose pods (every replica) are read, with the container to read in each.
	Deployments []DeploymentLogs
	Previous    bool
	// Since limits logs to this recent window (0 = everything the kubelet kept).
	Since time.Duration
	// MaxLogsPerDeployment bounds how many replicas' logs are read (0 = all): replicas share one
	// configuration, and a namespace of thousands of pods must not cost a request each. Every pod's
	// state is still read; the unhealthy replicas' logs come first.
	MaxLogsPerDeployment int
}

// DeploymentLogs is one deployment and the container that logs storage errors (velero).
type DeploymentLogs struct {
	Name      string
	Container string
}

// Source describes one log that was read, for the report's "source" and for the user.
type Source struct {
	// Deployment is the workload the pod belongs to, for a live read.
	Deployment string
	Pod        string
	Container  string
	Lines      int64
	// Err is set when the log could not be read (no previous instance, container not started).
	Err string
	// NotRead is set for a replica past ClusterSource.MaxLogsPerDeployment: its state was read, its log was not.
	NotRead bool
}

// ScanCluster reads the logs of every replica of each deployment and the pods' own state (an
// OOMKilled last state, a FailedScheduling condition), which say as much as any log line.
func (a *Analyzer) ScanCluster(ctx context.Context, client kubernetes.Interface, src ClusterSource) ([]Source, error) {
	var sources []Source
	for _, d := range src.Deployments {
		dep, err := client.AppsV1().Deployments(src.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
		if err != nil {
			return sources, fmt.Errorf("reading deployment %s/%s: %w", src.Namespace, d.Name, err)
		}
		selector, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
		if err != nil || selector.Empty() {
			selector = labels.Nothing()
		}
		items, err := paged.Pods(ctx, client, src.Namespace, metav1.ListOptions{LabelSelector: selector.String()})
		if err != nil {
			return sources, fmt.Errorf("listing pods of deployment %s/%s: %w", src.Namespace, d.Name, err)
		}
		sortUnhealthyFirst(items)
		for i := range items {
			pod := &items[i]
			a.addPodState(pod)
			s := Source{Deployment: d.Name, Pod: pod.Namespace + "/" + pod.Name, Container: d.Container}
			if src.MaxLogsPerDeployment > 0 && i >= src.MaxLogsPerDeployment {
				s.NotRead = true
				sources = append(sources, s)
				continue
			}
			before := a.linesRead
			if err := a.scanPodLog(ctx, client, pod, d.Container, src); err != nil {
				s.Err = err.Error()
			}
			s.Lines = a.linesRead - before
			sources = append(sources, s)
		}
	}
	return sources, nil
}

// sortUnhealthyFirst orders replicas so that a bounded read sees the ones with something to say:
// not ready or restarted first, then by name, so that the same pods are read on every run.
func sortUnhealthyFirst(pods []corev1.Pod) {
	unhealthy := func(p *corev1.Pod) bool {
		for _, cs := range p.Status.ContainerStatuses {
			if !cs.Ready || cs.RestartCount > 0 {
				return true
			}
		}
		return p.Status.Phase != corev1.PodRunning
	}
	sort.SliceStable(pods, func(i, j int) bool {
		ui, uj := unhealthy(&pods[i]), unhealthy(&pods[j])
		if ui != uj {
			return ui
		}
		return pods[i].Name < pods[j].Name
	})
}

func (a *Analyzer) scanPodLog(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, container string, src ClusterSource) error {
	opts := &corev1.PodLogOptions{Container: container, Previous: src.Previous}
	if src.Since > 0 {
		secs := int64(src.Since.Seconds())
		opts.SinceSeconds = &secs
	}
	stream, err := client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, opts).Stream(ctx)
	if err != nil {
		return err
	}
	defer stream.Close()
	name := fmt.Sprintf("pod %s/%s container %s", pod.Namespace, pod.Name, container)
	if src.Previous {
		name += " (previous)"
	}
	return a.Scan(io.Reader(stream), name)
}

// addPodState turns what the pod's status says into entries the catalog recognises.
func (a *Analyzer) addPodState(pod *corev1.Pod) {
	for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if t := cs.LastTerminationState.Terminated; t != nil && t.Reason == "OOMKilled" {
			a.AddText(fmt.Sprintf("%s pod %s/%s container %s: Last State: Terminated, Reason: OOMKilled, Exit Code: %d, restarts: %d",
				t.FinishedAt.UTC().Format(time.RFC3339), pod.Namespace, pod.Name, cs.Name, t.ExitCode, cs.RestartCount), "pod "+pod.Name+" status")
		}
		if t := cs.State.Terminated; t != nil && t.Reason == "OOMKilled" {
			a.AddText(fmt.Sprintf("%s pod %s/%s container %s: State: Terminated, Reason: OOMKilled", t.FinishedAt.UTC().Format(time.RFC3339), pod.Namespace, pod.Name, cs.Name), "pod "+pod.Name+" status")
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && strings.Contains(c.Message, "Insufficient") {
			a.AddText(fmt.Sprintf("%s pod %s/%s FailedScheduling: %s", c.LastTransitionTime.UTC().Format(time.RFC3339), pod.Namespace, pod.Name, c.Message), "pod "+pod.Name+" status")
		}
	}
}
