package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"

	"github.com/kubectl-aksbackup/kubectl-aksbackup/e2e/internal/crds"
)

// How `kubectl logs` works in the lab. Containers never run under kwok, so nothing writes logs on
// its own. kwok (started with --enable-crds=Logs and serving the kubelet API on the node's port)
// answers the API server's containerLogs call from a file on this host, in CRI format
// ("<RFC3339Nano> stdout F <line>"; plain text is refused). Which file is decided by:
//  1. a kwok Logs object named after the pod, in the pod's namespace, whose spec.logs maps container
//     names to files: SetPodLogs (and `aksbackup-lab logs`) writes the file and that object, with a
//     container-less entry for the pod's other containers (kwok does not fall back to 2 once a
//     pod has a Logs object);
//  2. otherwise the ClusterLogs in kwok's --config, which serves <dir>/pod-logs/default.log for
//     every other pod, so `kubectl logs` never fails on a lab pod.
// The Logs object lives in the pod's namespace, so it goes away with the namespace.
// A double that plays a workload (say Velero) writes its lines with SetPodLogs, or registers the
// file once with RegisterPodLog and appends CRILine lines to it as it goes.

// LogsResource is kwok's namespaced Logs resource.
var LogsResource = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

const (
	kwokLogsCRDFile = "kwok.x-k8s.io_logs.yaml"
	defaultPodLog   = "default.log"
)

// CRILine formats one log line the way a container runtime stores it.
func CRILine(at time.Time, stream, line string) string {
	return at.UTC().Format(time.RFC3339Nano) + " " + stream + " F " + line + "\n"
}

// podLogDir is where the lab keeps the log files kwok serves.
func podLogDir(dir string) string { return filepath.Join(dir, "pod-logs") }

// kwokLogsConfig is the ClusterLogs document appended to kwok's --config, and writes the file it
// serves.
func kwokLogsConfig(dir string) (string, error) {
	if err := os.MkdirAll(podLogDir(dir), 0o700); err != nil {
		return "", err
	}
	file := filepath.Join(podLogDir(dir), defaultPodLog)
	line := CRILine(time.Now(), "stdout", "aksbackup-lab: no logs recorded for this container (see `aksbackup-lab logs --help`)")
	if err := os.WriteFile(file, []byte(line), 0o600); err != nil {
		return "", err
	}
	return fmt.Sprintf(`---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: aksbackup-lab-default
spec:
  logs:
  - logsFile: %q
`, file), nil
}

// installKwokCRDs installs the kwok CRDs kwok watches (--enable-crds); it must run before kwok starts.
func installKwokCRDs(ctx context.Context, s *State) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		return err
	}
	return crds.InstallFile(ctx, cfg, filepath.Join(s.BinDir, "crds", kwokLogsCRDFile), 30*time.Second)
}

// RegisterPodLog makes `kubectl logs -n ns pod -c container` serve a file on this host, and returns
// its path (created empty if missing). Append CRILine lines to it; kwok reads it on each request.
func (s *State) RegisterPodLog(ctx context.Context, ns, pod, container string) (string, error) {
	for _, part := range []string{ns, pod, container} {
		if part == "" || strings.ContainsAny(part, `/\`) || part == "." || part == ".." {
			return "", fmt.Errorf("invalid namespace, pod or container name %q", part)
		}
	}
	file := filepath.Join(podLogDir(s.Dir), ns, pod, container+".log")
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	_ = f.Close()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		return "", err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	logs := dyn.Resource(LogsResource).Namespace(ns)
	entry := map[string]any{"containers": []any{container}, "logsFile": file}
	// Once a pod has a Logs object kwok no longer falls back to the ClusterLogs, so the object keeps
	// an entry without containers for the pod's other containers.
	fallback := map[string]any{"logsFile": filepath.Join(podLogDir(s.Dir), defaultPodLog)}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := logs.Get(ctx, pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			obj = &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
				"metadata": map[string]any{"name": pod, "namespace": ns},
				"spec":     map[string]any{"logs": []any{entry, fallback}},
			}}
			_, err = logs.Create(ctx, obj, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		entries, _, _ := unstructured.NestedSlice(obj.Object, "spec", "logs")
		kept, hasFallback := []any{entry}, false
		for _, e := range entries {
			m, _ := e.(map[string]any)
			names, _, _ := unstructured.NestedStringSlice(m, "containers")
			if len(names) == 1 && names[0] == container {
				if f, _, _ := unstructured.NestedString(m, "logsFile"); f == file {
					return nil // already registered
				}
				continue
			}
			hasFallback = hasFallback || len(names) == 0
			kept = append(kept, e)
		}
		if !hasFallback {
			kept = append(kept, fallback)
		}
		if err := unstructured.SetNestedSlice(obj.Object, kept, "spec", "logs"); err != nil {
			return err
		}
		_, err = logs.Update(ctx, obj, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("registering logs of %s/%s container %s with kwok: %w", ns, pod, container, err)
	}
	return file, nil
}

// SetPodLogs replaces what `kubectl logs` shows for one container with lines (stream stdout).
func (s *State) SetPodLogs(ctx context.Context, ns, pod, container string, lines []string) error {
	file, err := s.RegisterPodLog(ctx, ns, pod, container)
	if err != nil {
		return err
	}
	var b strings.Builder
	at := time.Now()
	n := 0
	for _, l := range lines {
		for _, part := range strings.Split(strings.TrimSuffix(l, "\n"), "\n") {
			b.WriteString(CRILine(at.Add(time.Duration(n)*time.Microsecond), "stdout", part))
			n++
		}
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}
