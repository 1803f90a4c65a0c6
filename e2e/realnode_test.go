package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/lab"
	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/labtest"
)

// podCheck is lab-podcheck's termination message.
type podCheck struct {
	UID, GID      int
	CapEff        string
	Seccomp       string
	NoNewPrivs    string
	RootReadOnly  bool
	TokenFile     string
	TokenMode     string
	TokenUID      int
	TokenAudience string
	CheckURL      string
	CheckStatus   int
	Errors        []string
}

// requireRealNode returns the lab's real node, or skips when another lab on this machine holds it
// (only one can exist) or the host cannot run one; a capable host without a busy real node fails.
func requireRealNode(t *testing.T, l *labtest.Lab) *lab.RealNode {
	t.Helper()
	if l.RealNode != nil {
		return l.RealNode
	}
	if data, err := os.ReadFile(lab.RealNodeLockFile); err == nil {
		t.Skipf("another lab holds this machine's real node (%s): %s", lab.RealNodeLockFile, strings.TrimSpace(string(data)))
	}
	if _, err := exec.LookPath("containerd"); err != nil || os.Geteuid() != 0 {
		t.Skip("this host cannot run the lab's real node (it needs root and containerd)")
	}
	t.Fatal("the lab has no real node although this host can run one: boot it with `aksbackup-lab up --real-node`")
	return nil
}

// TestVerifierRunsOnTheRealNode runs the verifier image under the restricted pod-security profile with
// the backup component's identity, as the probe will: the real scheduler places the pod (which
// tolerates nothing) on the real node, the webhook double asks for the projected token, the kubelet
// mounts it, runc enforces the security context, and the pod reaches a double on the bridge gateway.
func TestVerifierRunsOnTheRealNode(t *testing.T) {
	l := labtest.Load(t)
	rn := requireRealNode(t, l)
	if rn.Images["verifier"] == "" || rn.Images["podcheck"] == "" {
		t.Fatalf("the real node lacks the verifier or pod-check image (%v): run `make build lab-build` before the lab boots", rn.Images)
	}
	if l.PodEntraURL == "" {
		t.Fatal("the lab recorded no Entra address on the bridge gateway")
	}
	client := l.Clientset(t)
	ns := l.NewFixtureNamespace(t, "realnode")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sa := "dataprotection-microsoft-kubernetes-agent-server"
	if _, err := client.CoreV1().ServiceAccounts(ns).Patch(ctx, sa, "application/merge-patch+json",
		[]byte(`{"metadata":{"annotations":{"azure.workload.identity/client-id":"`+clientID+`"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	// The extension's own pods stay on the kwok node: they tolerate its taint and select it.
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("fixture pods: %d %v", len(pods.Items), err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName != lab.NodeName {
			t.Errorf("fixture pod %s runs on %q, want the kwok node %s", p.Name, p.Spec.NodeName, lab.NodeName)
		}
	}

	pod := restrictedPod(rn, l.PodEntraURL+lab.TenantID+"/v2.0/.well-known/openid-configuration", sa)
	begin := time.Now()
	created, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !hasTokenVolume(created, "api://AzureADTokenExchange") {
		t.Fatalf("the webhook double injected no projected token volume: %+v", created.Spec.Volumes)
	}
	final := waitPodDone(t, ctx, client, ns, pod.Name)
	t.Logf("pod create -> %s on %s in %.1fs", final.Status.Phase, final.Spec.NodeName, time.Since(begin).Seconds())
	if final.Spec.NodeName != rn.Name {
		t.Fatalf("the pod ran on %q, want the real node %s", final.Spec.NodeName, rn.Name)
	}
	if final.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("pod phase %s: %+v", final.Status.Phase, final.Status.ContainerStatuses)
	}

	// The verifier's output comes back through the API server -> kubelet (InternalIP, client cert).
	logs, err := client.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "verifier"}).DoRaw(ctx)
	if err != nil || !strings.HasPrefix(string(logs), "aksbackup-verifier ") {
		t.Errorf("verifier log %q, %v", logs, err)
	}
	var check podCheck
	for _, cs := range final.Status.ContainerStatuses {
		if cs.Name != "check" {
			continue
		}
		if cs.State.Terminated == nil {
			t.Fatalf("check container not terminated: %+v", cs.State)
		}
		msg := cs.State.Terminated.Message
		if strings.Contains(msg, "eyJ") {
			t.Fatal("the termination message holds a token")
		}
		if err := json.Unmarshal([]byte(msg), &check); err != nil {
			t.Fatalf("termination message %q: %v", msg, err)
		}
	}
	t.Logf("pod check: %+v", check)
	if len(check.Errors) != 0 {
		t.Errorf("pod check errors: %v", check.Errors)
	}
	if check.UID != 65532 || check.GID != 65532 {
		t.Errorf("ran as %d:%d, want the image's 65532:65532", check.UID, check.GID)
	}
	if check.CapEff != "0000000000000000" || check.Seccomp != "2" || check.NoNewPrivs != "1" || !check.RootReadOnly {
		t.Errorf("runc did not enforce the security context: CapEff %s, Seccomp %s, NoNewPrivs %s, read-only root %v", check.CapEff, check.Seccomp, check.NoNewPrivs, check.RootReadOnly)
	}
	if check.TokenFile == "" || check.TokenAudience != "api://AzureADTokenExchange" || check.TokenUID != 65532 || check.TokenMode != "0600" {
		t.Errorf("projected token file %q: audience %q, owner %d, mode %s; want api://AzureADTokenExchange, 65532, 0600", check.TokenFile, check.TokenAudience, check.TokenUID, check.TokenMode)
	}
	if check.CheckStatus != 200 {
		t.Errorf("GET %s from the pod: status %d, want 200 (TLS verified against the lab CA)", check.CheckURL, check.CheckStatus)
	}

	// Deleting the pod: the kubelet stops it and confirms, so nothing is left on the node.
	if err := client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Errorf("the pod was not removed from the real node: %v", err)
	}
}

// restrictedPod is a pod under the restricted pod-security profile, with the workload-identity label,
// that runs `aksbackup-verifier version` and lab-podcheck.
func restrictedPod(rn *lab.RealNode, checkURL, serviceAccount string) *corev1.Pod {
	no, yes := false, true
	uid := int64(65532)
	deadline := int64(90)
	sc := &corev1.SecurityContext{
		AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes, RunAsNonRoot: &yes,
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	resources := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "verifier-realnode", Labels: map[string]string{"azure.workload.identity/use": "true"}},
		Spec: corev1.PodSpec{
			ServiceAccountName:           serviceAccount,
			AutomountServiceAccountToken: &no,
			RestartPolicy:                corev1.RestartPolicyNever,
			ActiveDeadlineSeconds:        &deadline,
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{
				{Name: "verifier", Image: rn.Images["verifier"], Args: []string{"version"}, ImagePullPolicy: corev1.PullNever,
					SecurityContext: sc, Resources: resources, TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError},
				{Name: "check", Image: rn.Images["podcheck"], ImagePullPolicy: corev1.PullNever, SecurityContext: sc, Resources: resources,
					Env:          []corev1.EnvVar{{Name: "LAB_CHECK_URL", Value: checkURL}, {Name: "LAB_CHECK_CA", Value: "/etc/lab-ca/ca.crt"}},
					VolumeMounts: []corev1.VolumeMount{{Name: "lab-ca", MountPath: "/etc/lab-ca", ReadOnly: true}}},
			},
			// The lab signs every certificate with the API server's CA, which each namespace carries.
			Volumes: []corev1.Volume{{Name: "lab-ca", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}}}},
		},
	}
}

func hasTokenVolume(p *corev1.Pod, audience string) bool {
	for _, v := range p.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if s.ServiceAccountToken != nil && s.ServiceAccountToken.Audience == audience {
				return true
			}
		}
	}
	return false
}

// waitPodDone watches the pod until it succeeds or fails.
func waitPodDone(t *testing.T, ctx context.Context, client kubernetes.Interface, ns, name string) *corev1.Pod {
	t.Helper()
	w, err := client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var last *corev1.Pod
	for ev := range w.ResultChan() {
		if p, ok := ev.Object.(*corev1.Pod); ok {
			last = p
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				return p
			}
		}
	}
	events, _ := client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
	var msgs []string
	if events != nil {
		for _, e := range events.Items {
			msgs = append(msgs, e.Reason+": "+e.Message)
		}
	}
	t.Fatalf("pod %s/%s did not finish (watch ended: %v); last status %+v; events %v", ns, name, ctx.Err(), last, msgs)
	return nil
}
